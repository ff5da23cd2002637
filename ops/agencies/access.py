"""Reads of agencies for platform operators (the agency rows are the platform's own table)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Agency, AnyUser
from accounts.support.access import is_operator


def _operator(user: AnyUser) -> None:
    if not is_operator(user):
        raise Http404


def agencies_for(user: AnyUser) -> QuerySet[Agency]:
    _operator(user)
    return Agency.objects.order_by("slug")


def agency_for(user: AnyUser, agency_id: int) -> Agency:
    _operator(user)
    found = Agency.objects.filter(pk=agency_id).first()
    if found is None:
        raise Http404
    return found
