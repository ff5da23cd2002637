"""Choice fields over a queryset that list their choices with one ordinary query.

Django's ``ModelChoiceField`` lists its choices through ``queryset.iterator()``: on
PostgreSQL a server-side cursor, so every rendering of a select or a group of radio buttons
costs three round trips (DECLARE, FETCH, CLOSE) and reads the rows again each time. The
choices of the portal's forms are a handful of rows (departments, request types, closure
reasons, staff, documents of one request), so here they are read once per form with a plain
query and kept on the form's own copy of the queryset. Validation is unchanged: a submitted
value is still looked up in the queryset (``to_python``), never in the listed rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator


class ListedChoices(ModelChoiceIterator):
    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # Iterating the queryset itself (not .iterator()) keeps its rows on it: the form's
        # next listing of the same field reads no row again.
        for obj in self.queryset:
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.queryset)


class ModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    iterator = ListedChoices
