"""The staff queue's newest-first index (request_open_newest: agency, id, not closed), for
the staff search's window of the newest requests, built without locking the requests table
against writes: CREATE INDEX CONCURRENTLY, outside a transaction, hence non-atomic."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("requests_portal", "0020_staff_search_term_no_agency_index"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="recordsrequest",
            index=models.Index(
                condition=~models.Q(status="closed"),
                fields=["agency", "id"],
                name="request_open_newest",
            ),
        ),
    ]
