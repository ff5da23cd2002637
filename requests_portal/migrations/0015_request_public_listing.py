"""The public archive's indexes: its listing (request_public_listing) and its search's newest
matches (public_search_newest). Built without locking the tables against writes: CREATE INDEX
CONCURRENTLY, which cannot run inside a transaction, hence a non-atomic migration."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("requests_portal", "0014_request_release_hold"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="recordsrequest",
            index=models.Index(
                condition=models.Q(
                    ("description_held", False), ("visibility__in", ["published", "embargoed"])
                ),
                fields=["agency", "year", "sequence"],
                include=("visibility", "public_from", "status", "day_zero"),
                name="request_public_listing",
            ),
        ),
        AddIndexConcurrently(
            model_name="publicsearchentry",
            index=models.Index(fields=["agency", "year", "sequence"], name="public_search_newest"),
        ),
    ]
