"""The staff queue: the requests a staff member may see, filtered and searched, with the
summary counts and each row's deadline state."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from accounts import policy
from accounts.decorators import agency_permission
from accounts.local_time import agency_today
from requests_portal import access, deadlines, form_fragments, forms, queue_access
from requests_portal.models import Status, status_labels
from requests_portal.services import clock
from requests_portal.views.common import page_params

QUEUE_PAGE_SIZE = 50
# A request number no real request has (sequence 0), only ever replaced by a real one.
_SAMPLE_NUMBER = "00-0"
_FILTER_FIELDS = "requests_portal/staff/_queue_filter_fields.html"


@require_safe
@agency_permission(policy.STAFF_AREA)
def staff_queue(request: HttpRequest) -> HttpResponse:
    agency = request.agency
    form = forms.QueueFilterForm(
        request.GET or None, departments=access.departments_for(request.user, agency)
    )
    data = form.cleaned_data if form.is_valid() else {}

    def fields() -> str:
        return render_to_string(_FILTER_FIELDS, {"form": form})

    queue = queue_access.staff_queue_for(request.user, agency, data, today=agency_today(agency))
    paginator = Paginator(queue.requests, QUEUE_PAGE_SIZE)
    if queue.unfiltered:
        # The default view is exactly the "not closed" summary count: don't count twice.
        paginator.count = queue.counts["open"]
    page = paginator.get_page(request.GET.get("page"))
    calendar = clock.calendar_for(agency, clock.settings_for(agency))
    now = timezone.now()
    # Each row's link and status label made here, once per row, rather than by a template
    # tag per row (a URL reverse and a choices lookup each): one reverse gives the shape.
    link = reverse("staff:request_detail", args=[_SAMPLE_NUMBER])
    labels = status_labels()
    rows = []
    for r in page.object_list:
        running = r.status in (Status.SUBMITTED, Status.OPEN)
        overdue = running and deadlines.is_overdue(now, r.due_date, calendar)
        rows.append(
            {
                "r": r,
                "url": link.replace(_SAMPLE_NUMBER, r.number),
                "status": labels.get(r.status, r.status),
                "overdue": overdue,
                "due_soon": running
                and not overdue
                and deadlines.is_due_soon(now, r.due_date, calendar),
            }
        )
    return render(
        request,
        "requests_portal/staff_queue.html",
        {
            # The blank form (the queue as it opens) is the same for every visit of one
            # agency, language and view of its departments: kept, not rendered each time.
            "filter_fields": fields()
            if form.is_bound
            else form_fragments.kept_fragment(
                agency_id=agency.pk,
                key=f"queue-filter:{get_language()}:"
                f"{policy.can(request.user, agency, policy.DEPARTMENTS_VIEW)}",
                render=fields,
            ),
            "page": page,
            "rows": rows,
            "counts": queue.counts,
            "params": page_params(request),
        },
    )
