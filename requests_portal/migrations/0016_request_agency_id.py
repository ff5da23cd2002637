"""The API request list's keyset index (request_agency_id: agency, id), built without
locking the requests table against writes: CREATE INDEX CONCURRENTLY, outside a
transaction, hence a non-atomic migration."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("requests_portal", "0015_request_public_listing"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="recordsrequest",
            index=models.Index(fields=["agency", "id"], name="request_agency_id"),
        ),
    ]
