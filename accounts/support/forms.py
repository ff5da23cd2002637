"""Forms of support access: the operator's request (or emergency start) and an admin's
denial. The limits are the services' (accounts.support.services); the form says them first."""

from __future__ import annotations

from django import forms

from accounts.models import SupportRole
from accounts.support.services import EMERGENCY_MAX_MINUTES, MAX_MINUTES


class SupportRequestForm(forms.Form):
    max_hours = MAX_MINUTES // 60

    role = forms.ChoiceField(
        label="Access you need",
        choices=SupportRole.choices,
        initial=SupportRole.READ_ONLY,
        help_text="Read-only lets you open pages and nothing else. Ask for more only if the "
        "problem needs it.",
    )
    reason = forms.CharField(
        label="Why you need access",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The agency's admins read this before they decide, and it stays in their "
        "audit log.",
    )
    hours = forms.IntegerField(label="For how many hours", min_value=1, initial=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["hours"]
        field.widget.attrs["max"] = str(self.max_hours)
        field.help_text = f"At most {self.max_hours} hours, counted from the moment access starts."

    def clean_hours(self) -> int:
        hours = self.cleaned_data["hours"]
        if hours > self.max_hours:
            raise forms.ValidationError(
                f"Support access can last at most {self.max_hours} hours.", code="max_value"
            )
        return hours


class EmergencyAccessForm(SupportRequestForm):
    """Break-glass access skips the admins' approval, so it never writes: read-only only
    (more needs an approved request)."""

    max_hours = EMERGENCY_MAX_MINUTES // 60

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"] = forms.ChoiceField(
            label="Access you need",
            choices=[c for c in SupportRole.choices if c[0] == SupportRole.READ_ONLY],
            initial=SupportRole.READ_ONLY,
            help_text="Emergency access is read-only. For more, ask the agency's admins.",
        )


class DenyForm(forms.Form):
    note = forms.CharField(
        label="Note for the operator",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
