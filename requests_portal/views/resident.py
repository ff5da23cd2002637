"""Residents' pages: the request form (with similar public requests), the confirmation and
request page (signed in, or through the tracking link), their replies, and their list."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

import audit
from accounts import policy
from accounts.models import Agency
from requests_portal import access, forms, tracking
from requests_portal.models import MessageKind
from requests_portal.search import public_search
from requests_portal.services import clock, messaging, submission
from requests_portal.services.changes import RequestStateError
from requests_portal.views.archive import ARCHIVE_PAGE_SIZE, public_page_rows
from requests_portal.views.common import agency_or_404


def _client_ip_key(group, request):
    return audit.client_ip(request) or "unknown"


def _email_key(group, request):
    return (request.POST.get("email") or "").strip().lower() or _client_ip_key(group, request)


def _rate_limited(request: HttpRequest) -> bool:
    by_ip = is_ratelimited(
        request,
        group="request_submit_ip",
        key=_client_ip_key,
        rate=settings.REQUEST_SUBMIT_RATE_PER_IP,
        increment=True,
    )
    by_email = is_ratelimited(
        request,
        group="request_submit_email",
        key=_email_key,
        rate=settings.REQUEST_SUBMIT_RATE_PER_EMAIL,
        increment=True,
    )
    return by_ip or by_email


def _similar(agency: Agency, text: str, limit: int = 5) -> list:
    # PostgreSQL text cannot hold NUL; a hand-made URL may carry one.
    text = (text or "").replace("\x00", "").strip()
    if len(text) < 3:
        return []
    return public_page_rows(agency, public_search(agency, text[:200])[:limit], text[:200])


def _file(request: HttpRequest, agency: Agency, form: forms.RequestForm) -> HttpResponse:
    """File the request of a valid form (or find the one this same form already filed) and
    go to its page: for a guest, through the tracking link."""
    data = form.cleaned_data
    actor = request.user if request.user.is_authenticated else None
    records_request = submission.request_submit(
        agency=agency,
        actor=actor,
        title=data["title"],
        description=data["description"],
        contact=submission.Contact(
            name=data["name"],
            email=data.get("email") or (actor.email if actor else ""),
            phone=data["phone"],
            address=data["address"],
        ),
        department=data.get("department"),
        delivery=data["delivery"],
        request_type=data.get("request_type"),
        custom_data=form.custom_data(),
        submission_key=data.get("submission_key"),
        http_request=request,
    )
    request.session["just_filed"] = records_request.number
    url = reverse("request_detail", args=[records_request.number])
    if actor is None:
        url += f"?t={tracking.tracking_token(records_request)}"
    return redirect(url)


@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    agency = agency_or_404(request)
    request_settings = clock.settings_for(agency)
    form_kwargs = {
        "departments": access.public_departments(agency)
        if request_settings.show_department_picker
        else None,
        "allow_anonymous": request_settings.allow_anonymous,
        "user": request.user,
        "request_types": access.active_request_types(agency),
        "custom_fields": access.active_custom_fields(agency),
    }
    status = 200
    if request.method == "POST":
        form = forms.RequestForm(request.POST, **form_kwargs)
        if _rate_limited(request):
            form.add_error(
                None,
                "You have sent several requests in a short time. Please wait an hour and try "
                "again, or contact the agency by phone.",
            )
            status = 429
        elif form.is_valid():
            try:
                return _file(request, agency, form)
            except RequestStateError as error:
                form.add_error(None, str(error))
                status = 400
        else:
            status = 400
    else:
        form = forms.RequestForm(**form_kwargs)
    similar = _similar(agency, request.GET.get("similar", ""))
    return render(
        request,
        "requests_portal/request_new.html",
        {
            "form": form,
            "request_settings": request_settings,
            "similar": similar,
            "similar_query": request.GET.get("similar", ""),
        },
        status=status,
    )


@require_safe
def request_similar(request: HttpRequest) -> HttpResponse:
    """The similar-requests box, as an HTML fragment for the form's script."""
    agency = agency_or_404(request)
    return render(
        request,
        "requests_portal/_similar.html",
        {"similar": _similar(agency, request.GET.get("q", ""))},
    )


def _resident_view(request: HttpRequest, number: str) -> access.PublicView:
    agency = agency_or_404(request)
    return access.get_request_for_resident(
        request.user, agency, number, tracking=request.GET.get("t", "")
    )


@require_safe
def request_detail(request: HttpRequest, number: str) -> HttpResponse:
    view = _resident_view(request, number)
    records_request = view.request
    agency = request.agency
    is_requester = view.viewer == access.Viewer.REQUESTER
    just_filed = request.session.pop("just_filed", None) == records_request.number
    return render(
        request,
        "requests_portal/request_detail.html",
        {
            "r": records_request,
            "is_requester": is_requester,
            "tracking": view.tracking,
            "just_filed": just_filed,
            "departments": list(access.departments_of(request.user, agency, records_request)),
            "timeline": access.timeline_for(request.user, agency, records_request, public=True),
            "messages_list": access.messages_for(
                request.user, agency, records_request, viewer=view.viewer
            ),
            "reply_form": forms.ReplyForm() if is_requester else None,
            "is_staff_member": policy.can(request.user, agency, policy.STAFF_AREA),
        },
    )


@require_POST
def request_reply(request: HttpRequest, number: str) -> HttpResponse:
    view = _resident_view(request, number)
    if view.viewer != access.Viewer.REQUESTER:
        raise Http404
    form = forms.ReplyForm(request.POST)
    url = reverse("request_detail", args=[number]) + (
        f"?t={view.tracking}" if view.tracking else ""
    )
    if not form.is_valid():
        messages.error(request, _("Write a message before sending it."))
        return redirect(url)
    try:
        messaging.request_message(
            records_request=view.request,
            actor=request.user if request.user.is_authenticated else None,
            kind=MessageKind.FROM_REQUESTER,
            body=form.cleaned_data["body"],
            http_request=request,
        )
    except RequestStateError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your message was sent to the agency."))
    return redirect(url)


@require_safe
@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    agency = agency_or_404(request)
    mine = access.requester_requests_for(request.user, agency).order_by("-created_at")
    page = Paginator(mine, ARCHIVE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "requests_portal/my_requests.html", {"page": page})
