"""Forms of expunge requests: recording the customer's request, and the second operator's
approval with the agency's slug typed again. The rules are the services'."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _


class ExpungeRequestForm(forms.Form):
    agency = forms.TypedChoiceField(
        label=_("Agency to expunge"),
        coerce=int,
        help_text=_(
            "Every row, document and key of this agency is deleted for good once another "
            "operator approves."
        ),
        error_messages={
            "invalid_choice": _("Choose an agency from the list: that one is unknown or gone.")
        },
    )
    customer_contact = forms.CharField(
        label=_("Who asked"),
        max_length=200,
        help_text=_("The customer's name, role and address, as they asked."),
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        help_text=_("The support ticket or letter the request came in."),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, agencies: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = cast(forms.TypedChoiceField, self.fields["agency"])
        field.choices = [("", _("Choose an agency")), *agencies]


class ApproveForm(forms.Form):
    confirm = forms.CharField(
        label=_("Type the agency's slug to confirm"),
        max_length=63,
        help_text=_("Its web address's first part. The expunge starts as soon as you approve."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
