"""The staff queue: the requests a staff member may see, filtered and searched, with the
summary counts and each row's deadline state."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today
from requests_portal import access, deadlines, forms
from requests_portal.models import Status
from requests_portal.services import clock
from requests_portal.views.common import page_params

QUEUE_PAGE_SIZE = 50


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_queue(request: HttpRequest) -> HttpResponse:
    agency = request.agency
    form = forms.QueueFilterForm(
        request.GET or None, departments=access.departments_for(request.user, agency)
    )
    data = form.cleaned_data if form.is_valid() else {}
    queue = access.staff_queue_for(request.user, agency, data, today=agency_today(agency))
    paginator = Paginator(queue.requests, QUEUE_PAGE_SIZE)
    if queue.unfiltered:
        # The default view is exactly the "not closed" summary count: don't count twice.
        paginator.count = queue.counts["open"]
    page = paginator.get_page(request.GET.get("page"))
    calendar = clock.calendar_for(agency, clock.settings_for(agency))
    now = timezone.now()
    rows = [
        {
            "r": r,
            "overdue": r.status in (Status.SUBMITTED, Status.OPEN)
            and deadlines.is_overdue(now, r.due_date, calendar),
            "due_soon": r.status in (Status.SUBMITTED, Status.OPEN)
            and deadlines.is_due_soon(now, r.due_date, calendar),
        }
        for r in page.object_list
    ]
    return render(
        request,
        "requests_portal/staff_queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "counts": queue.counts,
            "params": page_params(request),
        },
    )
