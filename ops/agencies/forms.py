"""The operators' form that creates an agency in a storage location."""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from vault.locations import location_choices


def _zones() -> list[tuple[str, str]]:
    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones()) if "/" in zone]


class AgencyCreateForm(forms.Form):
    slug = forms.CharField(
        label=_("Address"),
        max_length=63,
        help_text=_(
            "The agency's site is this name followed by the portal's domain: lower-case "
            "letters, digits and hyphens."
        ),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    time_zone = forms.ChoiceField(label=_("Time zone"), initial="America/New_York")
    storage_location = forms.ChoiceField(
        label=_("Storage location"),
        help_text=_(
            "Where the agency's documents, keys and audit archives are stored. It cannot be "
            "changed once the agency has stored anything."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Both declared above as ChoiceFields; the locations are the deployment's, read anew.
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = _zones()
        cast(forms.ChoiceField, self.fields["storage_location"]).choices = location_choices()
