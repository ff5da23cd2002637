"""Residents' pages: the request form (with similar public requests), the confirmation and
request page (signed in, or through the tracking link), their replies, and their list."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

import audit
from accounts import policy, ratelimits
from accounts.contact import reach_sentence
from accounts.models import Agency
from accounts.once import once_per_form
from requests_portal import access, form_fragments, forms, privacy, timeline_text, tracking
from requests_portal.models import MessageKind
from requests_portal.search import public_search
from requests_portal.services import clock, messaging, submission
from requests_portal.services.changes import RequestStateError
from requests_portal.views.archive import ARCHIVE_PAGE_SIZE, public_page_rows
from requests_portal.views.common import agency_or_404


def _client_ip_key(group, request):
    return audit.client_ip(request) or "unknown"


def _requester_email(request: HttpRequest) -> str:
    """The address the request is filed under: the typed one, else the signed-in person's."""
    typed = (request.POST.get("email") or "").strip().lower()
    if typed:
        return typed
    return request.user.email.lower() if request.user.is_authenticated else ""


def _rate_limited(request: HttpRequest) -> bool:
    """Per address generous (a library or a kiosk is one address for many residents), per
    email tight. A guest filing without an email counts against the address only."""
    by_ip = ratelimits.limited(
        request,
        group="request_submit_ip",
        key=_client_ip_key,
        rate=settings.REQUEST_SUBMIT_RATE_PER_IP,
    )
    email = _requester_email(request)
    by_email = bool(email) and ratelimits.limited(
        request,
        group="request_submit_email",
        key=lambda group, request: email,
        rate=settings.REQUEST_SUBMIT_RATE_PER_EMAIL,
    )
    return by_ip or by_email


def _similar(agency: Agency, text: str, limit: int = 5) -> list:
    # PostgreSQL text cannot hold NUL; a hand-made URL may carry one.
    text = (text or "").replace("\x00", "").strip()
    if len(text) < 3:
        return []
    best = public_search(agency, text[:200]).values_list("request_id", flat=True)[:limit]
    return public_page_rows(agency, list(best), text[:200])


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
        private_reason=form.privacy_reason(),
        http_request=request,
    )
    request.session["just_filed"] = records_request.number
    url = reverse("request_detail", args=[records_request.number])
    if actor is None:
        url += f"?t={tracking.tracking_token(records_request)}"
    return redirect(url)


def _form_inputs(request: HttpRequest, agency: Agency) -> tuple[dict, dict]:
    """What the request form is made of: its arguments, and what its body shows beside the
    fields. Read only to render a form (a posted one, or a blank one the cache lacks)."""
    request_settings = clock.settings_for(agency)
    departments = (
        access.public_departments(agency) if request_settings.show_department_picker else None
    )
    audience = privacy.form_audience(request_settings, departments)
    # Asking for privacy is offered where the agency allows it and the request could be public.
    offers_private = request_settings.allow_private_requests and audience.may_be_public
    form_kwargs = {
        "departments": departments,
        "allow_anonymous": request_settings.allow_anonymous,
        "user": request.user,
        "request_types": access.active_request_types(agency),
        "custom_fields": access.active_custom_fields(agency),
        "allow_private": offers_private,
        "private_explanation": request_settings.private_request_explanation,
    }
    shown = {
        "audience": audience,
        "offers_private": offers_private,
        "anonymous_note": request_settings.allow_anonymous and not request.user.is_authenticated,
    }
    return form_kwargs, shown


def _form_body(request: HttpRequest, agency: Agency, form: forms.RequestForm, shown: dict) -> str:
    """Everything inside the form but its CSRF token and one-time key (the page adds those):
    the same for every guest (or every signed-in person) of a blank form."""
    return render_to_string(
        "requests_portal/_request_form_body.html",
        {
            "form": form,
            # The privacy fields have their own place (requests_portal/_private_fields.html).
            "form_fields": form_fragments.fields_html(
                request,
                form,
                agency_id=agency.pk,
                name="request_new",
                skip=("private", "private_reason", "submission_key"),
            ),
            **shown,
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    agency = agency_or_404(request)
    status = 200
    form: forms.RequestForm | None = None
    if request.method == "POST":
        form_kwargs, shown = _form_inputs(request, agency)
        form = forms.RequestForm(request.POST, **form_kwargs)
        if _rate_limited(request):
            refusal = _(
                "You have sent several requests in a short time. Please wait an hour and try again."
            )
            form.add_error(None, f"{refusal} {reach_sentence(agency)}".strip())
            status = 429
        elif form.is_valid():
            try:
                return _file(request, agency, form)
            except RequestStateError as error:
                form.add_error(None, str(error))
                status = 400
        else:
            status = 400
        body = _form_body(request, agency, form, shown)
        one_time = form_fragments.per_rendering_html(form)
    else:

        def blank_body() -> str:
            form_kwargs, shown = _form_inputs(request, agency)
            return _form_body(request, agency, forms.RequestForm(**form_kwargs), shown)

        # A blank form's body is the same for every guest (or signed-in person) of the agency
        # in one language: from the cache, under the agency's forms version.
        body = form_fragments.blank_body_html(
            request, agency_id=agency.pk, name="request_new", render=blank_body
        )
        one_time = form_fragments.blank_key_html(str(uuid.uuid4()))
    similar = _similar(agency, request.GET.get("similar", ""))
    return render(
        request,
        "requests_portal/request_new.html",
        {
            "form": form,
            "form_body": body,
            "one_time_fields": one_time,
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
    # Kept under the forms version, which any change of the settings row renews.
    request_settings = form_fragments.kept(
        agency.pk, f"request-settings:{agency.pk}", lambda: clock.settings_for(agency)
    )
    page_path = reverse("request_detail", args=[records_request.number])
    if view.tracking:
        page_path += f"?t={view.tracking}"
    return render(
        request,
        "requests_portal/request_detail.html",
        {
            "r": records_request,
            # The clock's pause reason, said again when an app wrote it (billing's invoice).
            "pause_reason": timeline_text.reason_text(records_request.pause_reason),
            "is_requester": is_requester,
            "tracking": view.tracking,
            "just_filed": just_filed,
            # Web requests after the cut-off count from the next day (deadlines.day_zero).
            "cutoff": request_settings.cutoff,
            "page_path": page_path,
            # A guest has no other way back than this link (their email, if they gave one).
            "tracking_url": request.build_absolute_uri(page_path)
            if view.tracking and not request.user.is_authenticated
            else "",
            "departments": list(access.departments_of(request.user, agency, records_request)),
            # (entry, its words in the reader's language)
            "timeline": [
                (event, timeline_text.public_text(event))
                for event in access.timeline_for(request.user, agency, records_request, public=True)
            ],
            "messages_list": access.messages_for(
                request.user, agency, records_request, viewer=view.viewer
            ),
            "reply_form": forms.ReplyForm() if is_requester else None,
            "is_staff_member": policy.can(request.user, agency, policy.STAFF_AREA),
        },
    )


def _request_page(request: HttpRequest, number: str) -> str:
    """The request's page, through the tracking link the reply came with (a guest's): where
    a reply sent twice goes the second time. Not stored with the claim, as it is a secret."""
    tracking = request.GET.get("t", "")
    return reverse("request_detail", args=[number]) + (
        f"?{urlencode({'t': tracking})}" if tracking else ""
    )


@require_POST
@once_per_form(replay_to=_request_page)
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
