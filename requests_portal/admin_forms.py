from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from requests_portal.access import department_name_taken
from requests_portal.models import (
    CountingMethod,
    CustomFieldKind,
    Department,
    NotificationPreference,
    RequestSettings,
    TemplateKind,
    Visibility,
)


class RequestSettingsForm(forms.ModelForm):
    class Meta:
        model = RequestSettings
        fields = [
            "response_days",
            "response_method",
            "acknowledge_days",
            "acknowledge_method",
            "cutoff",
            "state",
            "default_visibility",
            "embargo_days",
            "show_department_picker",
            "allow_anonymous",
            "allow_private_requests",
            "private_request_explanation",
        ]
        labels = {
            "response_days": _("Days to respond"),
            "response_method": _("Count them as"),
            "acknowledge_days": _("Days to acknowledge"),
            "acknowledge_method": _("Count them as"),
            "cutoff": _("Web requests after this local time count from the next day"),
            "state": _("State (two letters, for the default holidays)"),
            "default_visibility": _("New requests are visible to"),
            "embargo_days": _("Embargoed requests become public this many days after closing"),
            "show_department_picker": _("Let residents pick a department"),
            "allow_anonymous": _("Let residents file without an email address"),
            "allow_private_requests": _("Let requesters ask to keep their request private"),
            "private_request_explanation": _("When they may ask (shown on the request form)"),
        }
        help_texts = {
            "allow_private_requests": _(
                "Only where your law allows it. Such a request starts visible to its point of "
                "contact and the admins only, with the requester's reason."
            ),
            "private_request_explanation": _(
                "For example the law that allows it and when it applies."
            ),
        }
        widgets = {
            "cutoff": forms.TimeInput(attrs={"type": "time"}),
            "private_request_explanation": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_state(self):
        import holidays

        state = self.cleaned_data["state"].strip().upper()
        if state and state not in holidays.country_holidays("US").subdivisions:
            raise forms.ValidationError(gettext("Use a two-letter US state code, such as IL."))
        return state

    def clean_response_days(self):
        days = self.cleaned_data["response_days"]
        if not 1 <= days <= 365:
            raise forms.ValidationError(gettext("Choose between 1 and 365 days."))
        return days

    def clean_embargo_days(self):
        days = self.cleaned_data["embargo_days"]
        if days > 3650:
            raise forms.ValidationError(gettext("Choose at most 3650 days."))
        return days


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(max_length=120, label=_("Name"))


class DefaultHolidaysForm(forms.Form):
    year = forms.IntegerField(min_value=2000, max_value=2100, label=_("Year"))


class ClosureReasonForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Closure reason"))
    requires_citation = forms.BooleanField(
        required=False, label=_("Closing with it needs an exemption citation")
    )


class DepartmentForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    default_visibility = forms.ChoiceField(
        required=False,
        choices=[("", _("The agency's default")), *Visibility.choices],
        label=_("Requests routed here are visible to"),
    )

    def __init__(self, *args, agency=None, instance: Department | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.instance = instance

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if department_name_taken(self.agency, name, except_for=self.instance):
            raise forms.ValidationError(gettext("There is already a department with this name."))
        return name


class DepartmentMemberForm(forms.Form):
    user = forms.ChoiceField(label=_("Staff member"))
    point_of_contact = forms.BooleanField(required=False, label=_("Point of contact"))

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in (staff or [])}
        self.fields["user"].choices = [(pk, u.email) for pk, u in self.staff.items()]

    def clean_user(self):
        return self.staff[self.cleaned_data["user"]]


class NotificationPreferenceForm(forms.ModelForm):
    class Meta:
        model = NotificationPreference
        fields = ["new_requests", "assignments", "requester_messages", "daily_digest"]


class ReportForm(forms.Form):
    start = forms.DateField(
        label=_("Received from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("Received until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["start"] > data["end"]:
                self.add_error("end", gettext("The end date must be on or after the start date."))
            elif (data["end"] - data["start"]).days > 3660:
                self.add_error("end", gettext("Choose a range of at most ten years."))
        return data


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(choices=TemplateKind.choices, label=_("Used for"))
    name = forms.CharField(max_length=120, label=_("Name"))
    body = forms.CharField(
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=_("Text"),
        help_text=_("You can use {number}, {title}, {requester_name}, {due_date} and {agency}."),
    )


class RequestTypeForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Type of request"))
    response_days = forms.IntegerField(min_value=1, max_value=365, label=_("Days to respond"))
    response_method = forms.ChoiceField(choices=CountingMethod.choices, label=_("Count them as"))


class CustomFieldForm(forms.Form):
    label = forms.CharField(max_length=120, label=_("Question"))
    kind = forms.ChoiceField(choices=CustomFieldKind.choices, label=_("Answer"))
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Options (for a choice: one per line)"),
    )
    required = forms.BooleanField(required=False, label=_("Residents must answer"))

    def clean(self):
        data = super().clean()
        if data.get("kind") == CustomFieldKind.CHOICE:
            options = [o for o in data.get("choices", "").splitlines() if o.strip()]
            if len(options) < 2:
                self.add_error("choices", gettext("Give at least two options, one per line."))
        return data
