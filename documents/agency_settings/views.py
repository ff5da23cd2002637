"""The agency admin's document settings: size limits, requester uploads, redaction reasons."""

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import policy
from accounts.decorators import agency_permission
from accounts.once import once_per_form
from documents import access
from documents.agency_settings import services
from documents.agency_settings.forms import DocumentSettingsForm, ReasonForm
from documents.errors import DocumentError


@require_http_methods(["GET", "HEAD", "POST"])
@agency_permission(policy.AGENCY_SETTINGS)
@once_per_form
def document_settings(request):
    current = access.settings_for(request.agency)
    which = request.POST.get("form", "") if request.method == "POST" else ""
    settings_form = DocumentSettingsForm(
        request.POST if which == "settings" else None, instance=current
    )
    reason_form = ReasonForm(request.POST if which == "reason" else None)
    if which == "settings" and settings_form.is_valid():
        services.settings_save(
            agency=request.agency,
            actor=request.user,
            values={f: settings_form.cleaned_data[f] for f in settings_form.Meta.fields},
            http_request=request,
        )
        messages.success(request, gettext("Document settings saved."))
        return HttpResponseRedirect(reverse("staff:document_settings"))
    if which == "reason" and reason_form.is_valid():
        try:
            services.reason_add(
                agency=request.agency,
                actor=request.user,
                label=reason_form.cleaned_data["label"],
                http_request=request,
            )
        except DocumentError as error:
            reason_form.add_error("label", str(error))
        else:
            messages.success(request, gettext("Reason added."))
            return HttpResponseRedirect(reverse("staff:document_settings"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "documents/admin_settings.html",
        {
            "settings_form": settings_form,
            "reason_form": reason_form,
            "reasons": access.redaction_reasons(request.agency),
        },
        status=status,
    )


@require_POST
@agency_permission(policy.AGENCY_SETTINGS)
def reason_retire(request, redaction_reason_id: int):
    reason = access.get_redaction_reason(request.agency, redaction_reason_id)
    if reason is None:
        raise Http404
    services.reason_retire(reason=reason, actor=request.user, http_request=request)
    messages.success(
        request, gettext("“%(reason)s” is no longer offered.") % {"reason": reason.label}
    )
    return HttpResponseRedirect(reverse("staff:document_settings"))
