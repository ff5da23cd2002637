"""Reads of the self-scan's runs, for platform operators only (platform data: no agency)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import AnyUser
from accounts.support.access import is_operator
from ops.models import ScanRun

HISTORY = 52  # a year of weekly runs on the list


def _operator(user: AnyUser) -> None:
    if not is_operator(user):
        raise Http404


def scan_runs(user: AnyUser) -> QuerySet[ScanRun]:
    _operator(user)
    return ScanRun.objects.select_related("requested_by").order_by("-started_at", "-pk")[:HISTORY]


def get_scan_run(user: AnyUser, run_id: int) -> ScanRun:
    _operator(user)
    found = ScanRun.objects.select_related("requested_by").filter(pk=run_id).first()
    if found is None:
        raise Http404
    return found
