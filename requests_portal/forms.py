import datetime
import uuid

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import model_choices
from requests_portal.models import (
    SELF_FILED,
    Channel,
    ClosureReason,
    CustomField,
    CustomFieldKind,
    Delivery,
    Department,
    MessageKind,
    Visibility,
)


class RequestForm(forms.Form):
    """The public request form. ``website`` is a honeypot: people never see it (it is hidden
    from sight and from screen readers), form-filling robots do."""

    title = forms.CharField(
        label=_("Summary of your request"),
        max_length=200,
        help_text=_("One line, for example “Police reports for 100 Main St, March 2026”."),
    )
    description = forms.CharField(
        label=_("What records do you want?"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Describe the records as precisely as you can: dates, places, names, subjects."
        ),
    )
    department = model_choices.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        label=_("Department (if you know it)"),
        empty_label=_("I don't know"),
    )
    delivery = forms.ChoiceField(
        choices=Delivery.choices,
        initial=Delivery.ELECTRONIC,
        label=_("How do you want the records?"),
    )
    name = forms.CharField(max_length=200, required=False, label=_("Your name"))
    email = forms.EmailField(
        required=False,
        label=_("Email address"),
        help_text=_("We send your request number and every update here."),
    )
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    address = forms.CharField(
        required=False,
        max_length=500,
        label=_("Mailing address (only if you want paper copies)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    website = forms.CharField(required=False, label=_("Leave this empty"))
    # A new key with every blank form: sending the same form twice files one request.
    submission_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        *args,
        departments=None,
        allow_anonymous=False,
        user=None,
        request_types=None,
        custom_fields=(),
        allow_private=False,
        private_explanation="",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submission_key", uuid.uuid4())
        self.allow_anonymous = allow_anonymous
        self.user = user
        self.custom_fields = list(custom_fields)
        if departments is None:
            del self.fields["department"]
        else:
            self.fields["department"].queryset = departments
        if request_types is not None and request_types.exists():
            self.fields["request_type"] = model_choices.ModelChoiceField(
                queryset=request_types,
                required=False,
                label=_("Type of request"),
                empty_label=_("Other / not sure"),
            )
        for custom in self.custom_fields:
            self.fields[f"custom_{custom.pk}"] = _custom_form_field(custom)
        if user is not None and user.is_authenticated:
            # Signed in: the account's email is where updates go.
            del self.fields["email"]
        elif not allow_anonymous:
            self.fields["email"].required = True
        else:
            self.fields["email"].help_text = _(
                "Optional. Without an email address you will get no updates: "
                "write down your request number and check back here."
            )
        if allow_private:
            # Only where the agency allows it: otherwise a posted "private" is no field here.
            self.fields["private"] = forms.BooleanField(
                required=False,
                label=_("Ask to keep this request private"),
                help_text=private_explanation
                or _("Only where the law allows it. Staff will read your reason."),
            )
            self.fields["private_reason"] = forms.CharField(
                required=False,
                max_length=2000,
                label=_("Why should it stay private?"),
                help_text=_("Needed if you ask to keep it private. Only agency staff read this."),
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def clean_submission_key(self) -> uuid.UUID | None:
        """The form's one-time key; a missing or mangled one only loses the protection
        against sending twice, never the request."""
        try:
            return uuid.UUID(self.cleaned_data.get("submission_key") or "")
        except ValueError:
            return None

    def custom_data(self) -> dict:
        """The custom answers as stored on the request: label kept with the value."""
        data = {}
        for custom in self.custom_fields:
            value = self.cleaned_data.get(f"custom_{custom.pk}")
            if value not in (None, ""):
                data[str(custom.pk)] = {"label": custom.label, "value": str(value)}
        return data

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(_("This field must be left empty."))
        return ""

    def clean(self):
        data = super().clean()
        if data.get("delivery") == Delivery.MAIL and not data.get("address"):
            self.add_error("address", _("Enter a mailing address for paper copies."))
        asked = self.cleaned_data.get("private")
        if asked and not (self.cleaned_data.get("private_reason") or "").strip():
            self.add_error(
                "private_reason", _("Say why your request should stay private, or untick the box.")
            )
        return data

    def privacy_reason(self) -> str:
        """The requester's reason for keeping the request private; empty when they did not
        ask (a reason typed without ticking the box asks nothing)."""
        if not self.cleaned_data.get("private"):
            return ""
        return (self.cleaned_data.get("private_reason") or "").strip()


def _custom_form_field(custom: CustomField) -> forms.Field:
    common = {"label": custom.label, "required": custom.required}
    if custom.kind == CustomFieldKind.CHOICE:
        options = [("", _("Choose…"))] + [(o, o) for o in custom.option_list()]
        return forms.ChoiceField(choices=options, **common)
    if custom.kind == CustomFieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return forms.CharField(max_length=500, **common)


class StaffRequestForm(RequestForm):
    """Staff intake of a request received by phone, mail, email or in person. ``today`` is
    the agency's (accounts.local_time.agency_today): "received in the future" is judged on
    its calendar, which a server on UTC is a day ahead of every evening."""

    channel = forms.ChoiceField(
        choices=[c for c in Channel.choices if c[0] not in SELF_FILED], label=_("Received by")
    )
    received_on = forms.DateField(
        label=_("Date received (day 0)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        kwargs["allow_anonymous"] = True
        kwargs.pop("user", None)
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["received_on"].initial = today
        self.fields["email"].label = gettext("Requester's email address")
        self.fields["email"].help_text = gettext("Optional: updates are emailed here.")
        self.fields["name"].label = gettext("Requester's name")
        del self.fields["website"]

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        today = self.today
        if received_on > today:
            raise forms.ValidationError(gettext("The date received cannot be in the future."))
        if received_on < today.replace(year=today.year - 5, day=min(today.day, 28)):
            raise forms.ValidationError(
                gettext("The date received must be within the last five years.")
            )
        return received_on


class MessageForm(forms.Form):
    """The kind is chosen by the button pressed: each submit button carries its own ``kind``
    and says what it does, so nothing is sent to the requester behind a bare "Save"."""

    BUTTONS = {
        MessageKind.INTERNAL: _("Save internal note"),
        MessageKind.TO_REQUESTER: _("Send to requester"),
        MessageKind.PUBLIC_NOTE: _("Publish public note"),
    }

    kind = forms.ChoiceField(label=_("What to do with it"), choices=MessageKind.choices)
    body = forms.CharField(
        label=_("Message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )
    notify = forms.MultipleChoiceField(
        required=False,
        label=_("Email this note to"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For internal notes: the colleagues who should read it."),
    )

    def __init__(self, *args, kinds=None, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = kinds or [MessageKind.INTERNAL]
        self.kinds = [kind for kind in MessageKind if kind in allowed]
        self.fields["kind"].choices = [c for c in MessageKind.choices if c[0] in allowed]
        self.staff = {str(u.pk): u for u in (staff or [])}
        self.fields["notify"].choices = [(pk, u.email) for pk, u in self.staff.items()]

    def clean_notify(self):
        return [self.staff[pk] for pk in self.cleaned_data.get("notify", [])]

    def buttons(self) -> list[tuple[str, str]]:
        """(kind, button label) for each kind this person may write, the internal note first
        (the button Enter presses), in the language of the page."""
        return [(kind.value, str(self.BUTTONS[kind])) for kind in self.kinds]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 5})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown on the public timeline)"), max_length=200)


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=_("Extra days"), min_value=1, max_value=90)
    reason = forms.CharField(
        label=_("Reason (emailed to the requester and shown on the public timeline)"),
        max_length=200,
    )


class DueDateForm(forms.Form):
    """``today`` is the agency's: the latest due date allowed is counted from it."""

    due_date = forms.DateField(
        label=_("New due date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason (shown on the public timeline)"), max_length=200)

    def __init__(self, *args, today: datetime.date, day_zero=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.day_zero = day_zero

    def clean_due_date(self):
        due = self.cleaned_data["due_date"]
        if self.day_zero is not None and due < self.day_zero:
            raise forms.ValidationError(
                gettext("The due date cannot be before the day it was received.")
            )
        if due > self.today.replace(year=self.today.year + 2, day=1):
            raise forms.ValidationError(gettext("Choose a date within the next two years."))
        return due


class CloseForm(forms.Form):
    reason = model_choices.ModelChoiceField(
        queryset=ClosureReason.objects.none(),
        label=_("Outcome"),
        empty_label=_("Choose an outcome"),
    )
    citation = forms.CharField(
        label=_("Exemption cited (needed for denials)"), max_length=300, required=False
    )
    note = forms.CharField(
        label=_("Closing message to the requester"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, reasons=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = (
            reasons if reasons is not None else ClosureReason.objects.none()
        )

    def clean(self):
        data = super().clean()
        reason = data.get("reason")
        if reason is not None and reason.requires_citation and not data.get("citation", "").strip():
            self.add_error(
                "citation",
                gettext("“%(reason)s” needs the exemption it relies on.") % {"reason": reason.name},
            )
        return data


class DescriptionReviewForm(forms.Form):
    description = forms.CharField(
        label=_("Description as the public will read it"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Remove what must not be public, then publish."),
    )


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(choices=Visibility.choices, label=_("Who can see this request"))


class RouteForm(forms.Form):
    departments = model_choices.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Departments"),
    )
    lead = model_choices.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        label=_("Lead department"),
        empty_label=_("No lead department"),
    )
    point_of_contact = forms.ChoiceField(required=False, label=_("Point of contact"))

    def __init__(self, *args, departments=None, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = departments
        self.fields["lead"].queryset = departments
        self.staff = {str(u.pk): u for u in (staff or [])}
        self.fields["point_of_contact"].choices = [("", _("Nobody yet"))] + [
            (pk, user.email) for pk, user in self.staff.items()
        ]

    def clean(self):
        data = super().clean()
        lead = data.get("lead")
        if lead is not None and lead not in data.get("departments", []):
            self.add_error("lead", gettext("The lead department must be one of the departments."))
        data["point_of_contact"] = self.staff.get(data.get("point_of_contact") or "")
        return data


class ArchiveFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=_("Search"))
    status = forms.ChoiceField(
        required=False,
        choices=[("", _("Any status")), ("open", _("Open")), ("closed", _("Closed"))],
        label=_("Status"),
    )
    department = model_choices.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Any department"),
        label=_("Department"),
    )
    since = forms.DateField(
        required=False,
        label=_("Filed on or after"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label=_("Filed on or before"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, departments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = (
            departments if departments is not None else Department.objects.none()
        )


class QueueFilterForm(ArchiveFilterForm):
    scope = forms.ChoiceField(
        required=False,
        choices=[
            ("all", _("All I can see")),
            ("mine", _("Mine")),
            ("departments", _("My departments")),
        ],
        label=_("Show"),
    )
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("Not closed")),
            ("overdue", _("Overdue")),
            ("submitted", _("Not acknowledged")),
            ("open", _("In progress")),
            ("paused", _("Paused")),
            ("closed", _("Closed")),
            ("any", _("Any status")),
        ],
        label=_("Status"),
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("due", _("Due first")),
            ("newest", _("Newest first")),
            ("oldest", _("Oldest first")),
        ],
        label=_("Sort"),
    )


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200, label=_("Task"))
    assignee = forms.ChoiceField(required=False, label=_("Assigned to"))
    due_date = forms.DateField(
        required=False, label=_("Due"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = {str(u.pk): u for u in (staff or [])}
        self.fields["assignee"].choices = [("", _("Nobody"))] + [
            (pk, u.email) for pk, u in self.staff.items()
        ]

    def clean_assignee(self):
        return self.staff.get(self.cleaned_data.get("assignee") or "")


class TagsForm(forms.Form):
    tags = forms.CharField(
        required=False,
        max_length=600,
        label=_("Tags"),
        help_text=_("Separate tags with commas."),
    )

    def clean_tags(self):
        names = [n.strip() for n in self.cleaned_data["tags"].split(",") if n.strip()]
        if any(len(n) > 60 for n in names):
            raise forms.ValidationError(gettext("Each tag can be at most 60 characters."))
        if len(names) > 20:
            raise forms.ValidationError(gettext("Use at most 20 tags."))
        return names


class TimeEntryForm(forms.Form):
    """``today`` is the agency's: time is logged for days of its calendar, up to today."""

    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    note = forms.CharField(required=False, max_length=200, label=_("What you did"))

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["day"].initial = today

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day > self.today:
            raise forms.ValidationError(gettext("Time cannot be logged for a future day."))
        return day
