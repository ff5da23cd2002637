"""Forms of the redaction page: a drawn (or typed) box, a search term, the personal-data
patterns; each with the agency's reason for the redaction."""

from __future__ import annotations

from django import forms

from accounts import model_choices


class _ReasonMixin:
    def _reason_field(self, reasons):
        self.fields["reason"] = model_choices.ModelChoiceField(
            label="Reason (shown in the redaction log)",
            queryset=reasons,
            empty_label=None,
        )


class BoxForm(_ReasonMixin, forms.Form):
    """A box in percent of the page: typed, or filled in by drawing on the preview."""

    page = forms.IntegerField(label="Page", min_value=1)
    left = forms.FloatField(label="From the left edge (%)", min_value=0, max_value=100)
    top = forms.FloatField(label="From the top edge (%)", min_value=0, max_value=100)
    width = forms.FloatField(label="Width (%)", min_value=0.1, max_value=100)
    height = forms.FloatField(label="Height (%)", min_value=0.1, max_value=100)

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self._reason_field(reasons)


class SearchForm(_ReasonMixin, forms.Form):
    term = forms.CharField(label="Redact every occurrence of", max_length=200)

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self._reason_field(reasons)


class PatternForm(_ReasonMixin, forms.Form):
    kinds = forms.MultipleChoiceField(
        label="Personal data to redact",
        choices=[
            ("ssn", "US Social Security numbers"),
            ("card", "Payment card numbers"),
            ("email", "Email addresses"),
            ("phone", "Phone numbers"),
            ("birth_date", "Dates of birth"),
        ],
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self._reason_field(reasons)
