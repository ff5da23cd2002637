"""Sent forms' one-time tokens (accounts.once): claiming one, noting where its result is,
and forgetting those whose token has expired. The thing the form creates records its own
audit event; a claim is bookkeeping of the request that created it, so it records none."""

from __future__ import annotations

import datetime

from django.db import transaction

from accounts.models import Agency, FormSubmission


def form_submission_claim(*, agency: Agency | None, key: str) -> FormSubmission:
    """Claim ``key`` for the current transaction. The key's unique index makes a second post
    of the same form wait here until the first one's transaction ends; if that one
    committed, this raises ``IntegrityError`` (the caller then shows the earlier result)."""
    with transaction.atomic():
        return FormSubmission.objects.create(agency=agency, key=key)


def form_submission_done(*, submission: FormSubmission, result_url: str) -> None:
    submission.result_url = result_url[:2000]
    submission.save(update_fields=["result_url"])


def form_submissions_forget(*, agency: Agency | None, before: datetime.datetime) -> int:
    """Delete the claims made before ``before`` in the current context (an agency's, or the
    platform's for ``agency=None``); their tokens are refused as expired anyway."""
    deleted, _ = FormSubmission.objects.filter(agency=agency, created_at__lt=before).delete()
    return deleted
