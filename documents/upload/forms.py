"""Forms of the upload pages: the file form (many files at once, works without JavaScript)
and the start of a resumable upload (what upload.js sends before the first chunk)."""

from __future__ import annotations

from django import forms

from documents.upload.handlers import MAX_FILES

# Larger than any limit an agency can set; only keeps the number a sane integer.
MAX_DECLARED_SIZE = 2**50


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field. Each file's own checks (size, type, empty) are the upload
    services', reported file by file, so one refused file never fails the others."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class UploadFilesForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        required=False,
        help_text="Choose one or more files. You can select several at once.",
    )

    def __init__(self, *args, limit_mb: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = (
            f"Choose one or more files, each up to {limit_mb} MB. You can select up to "
            f"{MAX_FILES} at once."
        )


class StartUploadForm(forms.Form):
    filename = forms.CharField(
        max_length=1000, error_messages={"required": "Choose a file to upload."}
    )
    size = forms.IntegerField(
        min_value=0,
        max_value=MAX_DECLARED_SIZE,
        error_messages={
            "required": "The size of the file is missing.",
            "invalid": "The size of the file must be a whole number of bytes.",
            "min_value": "The size of the file must be a whole number of bytes.",
            "max_value": "This file is too large.",
        },
    )

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return "Choose a file to upload."
