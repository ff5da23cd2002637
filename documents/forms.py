"""Forms of the documents pages."""

from __future__ import annotations

from django import forms

from documents.models import ReleaseLevel


class ReleaseForm(forms.Form):
    level = forms.ChoiceField(
        label="Who may see this document",
        choices=ReleaseLevel.choices,
        widget=forms.RadioSelect,
    )
    override_reason = forms.CharField(
        label="Reason to release despite unresolved personal-data findings",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed to release to the public while findings are unresolved. "
        "It is recorded in the audit log.",
    )


class BulkReleaseForm(forms.Form):
    documents = forms.ModelMultipleChoiceField(
        label="Documents", queryset=None, widget=forms.CheckboxSelectMultiple
    )
    level = forms.ChoiceField(label="Who may see them", choices=ReleaseLevel.choices)

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        self.fields["documents"].to_field_name = "public_id"
        self.fields["documents"].label_from_instance = lambda d: d.filename


class ResolveFindingForm(forms.Form):
    reason = forms.CharField(
        label="Why it needs no redaction",
        max_length=150,
        help_text="For example: a public official's work email.",
    )


class _ReasonMixin:
    def _reason_field(self, reasons):
        self.fields["reason"] = forms.ModelChoiceField(
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
