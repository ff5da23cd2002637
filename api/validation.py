"""The web's own forms validate the API's input too (one rule, one place): a form's errors
become the API's 400 with a message per field."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.utils.translation import gettext
from rest_framework import exceptions


def json_object(data: object) -> Mapping:
    """The request's body when it is a JSON object; anything else (a list, a number, true) is
    a 400 before a web form reads it as one."""
    if not isinstance(data, Mapping):
        raise exceptions.ValidationError(gettext("Send a JSON object."))
    return data


def validated(form: forms.Form) -> dict:
    """The form's cleaned data, or a 400 naming each field's problems."""
    if not form.is_valid():
        raise exceptions.ValidationError(
            {name: [str(message) for message in errors] for name, errors in form.errors.items()}
        )
    return form.cleaned_data
