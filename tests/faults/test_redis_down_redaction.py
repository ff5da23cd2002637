"""Fault run: Redis stops while staff redact (issue 16). The redaction pages keep their page
sizes and previews in the cache; with Redis away they answered an error. Now the cache is
used best-effort (documents/redaction/soft_cache.py): the page and every preview answer,
drawn again each time, and one warning says why. Against a real redis-server, stopped.

The rest of "Redis stopped" is covered where it is built: the request form and sign-in
(tests/jobs/test_redis_down_forms.py), staff actions and their e-mails and tasks kept in the
outbox and sent once Redis is back (tests/jobs/test_outbox.py)."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from documents.redaction import soft_cache, working
from tests.documents.helpers import pdf_with_text, stored_document

pytestmark = pytest.mark.django_db


def test_the_redaction_pages_answer_while_redis_is_down(
    tenant, records_request, client_for, cache_on_redis, caplog
):
    document = stored_document(records_request, pdf_with_text("Letter", pages=2))
    client = client_for(tenant.staff, tenant.host)
    kwargs = {"number": records_request.number, "document_id": document.public_id}
    page = reverse("staff:document_redact", kwargs=kwargs)
    assert client.get(page).status_code == 200  # with Redis: sizes cached

    cache_on_redis.stop()
    soft_cache._last_warning[0] = -soft_cache._WARN_EVERY
    caplog.set_level(logging.WARNING, logger="portal.cache")

    assert client.get(page).status_code == 200
    for number in (1, 2, 1):
        image = reverse("staff:document_page_image", kwargs={**kwargs, "page": number})
        preview = client.get(image)
        assert preview.status_code == 200
        assert b"".join(preview).startswith(b"\x89PNG")
    (warning,) = [r for r in caplog.records if r.name == "portal.cache"]
    assert warning.fields["event"] == "cache_unreachable"


def test_with_redis_down_a_conversion_is_not_queued_by_every_page_view(
    tenant, records_request, cache_on_redis, monkeypatch
):
    document = stored_document(
        records_request, b"Plain minutes.\n", filename="minutes.txt", content_type="text/plain"
    )
    queued = []
    monkeypatch.setattr(working.jobs, "convert_for_redaction", queued.append)
    cache_on_redis.stop()

    assert working.conversion_ready(document) is False
    assert working.conversion_ready(document) is False
    assert queued == []

    cache_on_redis.start()
    assert working.conversion_ready(document) is False
    assert working.conversion_ready(document) is False
    assert queued == [document]  # started once, by the first view with Redis back
