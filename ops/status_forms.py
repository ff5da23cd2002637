"""The operators' form for a status incident (issue 13, monitoring)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ops.models import Incident

OPEN_STATUSES = [
    (value, label) for value, label in Incident.Status.choices if value != Incident.Status.RESOLVED
]


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("What residents and agencies should know"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    status = forms.ChoiceField(label=_("Status"), choices=OPEN_STATUSES)
