"""The form that adds a webhook address."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks import targets
from webhooks.models import EventType


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Address"),
        max_length=500,
        help_text=_(
            "The https:// address of your system that receives the events. It must be "
            "reachable from the internet."
        ),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    events = forms.MultipleChoiceField(
        label=_("Events to send"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What this address is for, for the other admins (the case system…)."),
    )

    def clean_url(self) -> str:
        try:
            return targets.check_url(self.cleaned_data["url"])
        except targets.UnsafeTarget as error:
            raise forms.ValidationError(str(error)) from None

    def cleaned(self) -> dict[str, Any]:
        return {
            "url": self.cleaned_data["url"],
            "chosen_events": list(self.cleaned_data["events"]),
            "description": self.cleaned_data["description"],
        }
