"""The form that makes a personal API token."""

from __future__ import annotations

import datetime
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from api.scopes import scope_choices

MAX_DAYS = 365


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What it is for, so you recognise it later (for example “case system sync”)."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What it may do"),
        choices=(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose only what the program using it needs."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("At most one year from today."),
    )

    def __init__(self, *args, today: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = scope_choices()
        self.fields["expires_on"].initial = today + datetime.timedelta(days=90)

    def clean_expires_on(self) -> datetime.date:
        day = self.cleaned_data["expires_on"]
        if not self.today < day <= self.today + datetime.timedelta(days=MAX_DAYS):
            raise forms.ValidationError(_("Choose a day after today and within one year."))
        return day
