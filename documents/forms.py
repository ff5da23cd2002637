"""Forms of the document pages: who may see a document (one, or several at once), and why a
finding needs no redaction."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import model_choices
from documents.models import ReleaseLevel


class ReleaseForm(forms.Form):
    level = forms.ChoiceField(
        label=_("Who may see this document"),
        choices=ReleaseLevel.choices,
        widget=forms.RadioSelect,
    )
    override_reason = forms.CharField(
        label=_("Reason to release despite unresolved personal-data findings"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Only needed to release to the public while findings are unresolved. "
            "It is recorded in the audit log."
        ),
    )


class BulkReleaseForm(forms.Form):
    documents = model_choices.ModelMultipleChoiceField(
        label=_("Documents"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    level = forms.ChoiceField(label=_("Who may see them"), choices=ReleaseLevel.choices)

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = documents
        self.fields["documents"].to_field_name = "public_id"
        self.fields["documents"].label_from_instance = lambda d: d.filename


class ResolveFindingForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it needs no redaction"),
        max_length=150,
        help_text=_("For example: a public official's work email."),
    )
