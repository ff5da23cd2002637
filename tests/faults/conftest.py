"""Fixtures of the fault runs (issue 16): the document tests' real S3 gateway and buckets
(tests/documents/conftest.py), so a fault test stalls a gateway of its own, never the one
other tests are using; the jobs tests' private redis-server (tests/jobs/conftest.py)."""

from tests.documents.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    isolated_stores,
    records_request,
    s3_bucket,
    s3_gateway,
)
from tests.jobs.conftest import cache_on_redis, redis_server, redis_up  # noqa: F401
