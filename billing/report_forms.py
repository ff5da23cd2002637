"""The fee report's filters: the period form of the requests report (same dates, same limits
and messages) and a department."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.reports import ALL_DEPARTMENTS, NO_DEPARTMENT, DepartmentFilter
from requests_portal.admin_forms import ReportForm


class FeeReportForm(ReportForm):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ChoiceField(label=_("Lead department"), required=False)

    def __init__(self, *args: Any, departments: Iterable[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.department_choices: list[tuple[str, object]] = [
            ("", _("All departments")),
            *((str(pk), name) for pk, name in departments),
            (NO_DEPARTMENT, _("No lead department")),
        ]
        cast(forms.ChoiceField, self.fields["department"]).choices = self.department_choices

    def department_filter(self) -> DepartmentFilter:
        """What the report is asked for: every department, none, or one (by id)."""
        chosen = self.cleaned_data.get("department") or ""
        if not chosen:
            return ALL_DEPARTMENTS
        if chosen == NO_DEPARTMENT:
            return NO_DEPARTMENT
        return int(chosen)

    def department_label(self) -> str:
        """The chosen department in words ("" for every department)."""
        chosen = self.cleaned_data.get("department") or ""
        if not chosen:
            return ""
        return str(dict(self.department_choices).get(chosen, ""))
