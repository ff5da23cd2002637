"""Forms of the documents settings page."""

from django import forms

from documents.models import DocumentSettings


class DocumentSettingsForm(forms.ModelForm):
    class Meta:
        model = DocumentSettings
        fields = ["max_upload_mb", "requester_uploads", "requester_max_upload_mb"]

    def clean_max_upload_mb(self):
        value = self.cleaned_data["max_upload_mb"]
        if not 1 <= value <= 10 * 1024:
            raise forms.ValidationError("Choose between 1 MB and 10 GB (10240 MB).")
        return value

    def clean_requester_max_upload_mb(self):
        value = self.cleaned_data["requester_max_upload_mb"]
        if not 1 <= value <= 2048:
            raise forms.ValidationError("Choose between 1 and 2048 MB.")
        return value


class ReasonForm(forms.Form):
    label = forms.CharField(
        label="New redaction reason",
        max_length=120,
        help_text="For example: “Exempt: personal privacy, Gov. Code § 7927.700”.",
    )
