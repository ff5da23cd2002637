"""The request form's fields, rendered once and kept in the cache (Redis in production).

Rendering the public request form's fields (a template per field, a template per widget,
the department and request-type choices read from the database) was most of the form
page's time, and a blank form's fields are the same for every visitor of an agency reading
one language. Each agency has a *forms version* in the cache, and each fragment is kept
with the version it was made under. Saving or deleting anything the fields are made of (the
agency's request settings, departments, request types, custom fields: receivers connected in
``apps.py``; bulk changes through ``RenewingQuerySet``) replaces the version, so a fragment
made before the change is never used again. Entries also expire after
``FORM_FRAGMENT_SECONDS``.

Only a blank form (a GET) is taken from the cache; a posted form, with its values and
errors, is always rendered afresh. Fields that differ per rendering (the one-time
``submission_key``) are never in a fragment.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import models, transaction
from django.forms import Form
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import get_language

FORM_FRAGMENT_SECONDS = 600
T = TypeVar("T")
_PER_RENDERING = frozenset({"submission_key"})


def _version_key(agency_id: int) -> str:
    return f"forms-version:{agency_id}"


def forget(agency_id: int) -> None:
    """A new forms version for the agency: every fragment made before is unreachable. Again
    once the change commits: a fragment another process rendered meanwhile, from the rows
    as they were before the commit, must not outlive it."""

    def renew() -> None:
        cache.set(_version_key(agency_id), secrets.token_hex(8), None)

    renew()
    transaction.on_commit(renew)


class RenewingQuerySet(models.QuerySet):
    """The models the fields are made of: bulk updates and deletes renew the forms version of
    every agency they touch, as ``save()`` and ``delete()`` do through the receivers."""

    def _renew(self) -> None:
        for agency_id in set(self.values_list("agency_id", flat=True)):
            forget(agency_id)

    def update(self, **kwargs: Any) -> int:
        self._renew()
        return super().update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        self._renew()
        return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


def _render(form: Form, names: list[str]) -> str:
    # No request, so no context processors: _field.html reads only its field. The template
    # engine's output is marked safe by the engine itself (it escaped what it inserted).
    return render_to_string("_fields.html", {"fields": [form[n] for n in names]})


def kept(agency_id: int, key: str, render: Callable[[], T]) -> T:
    """``render()``'s output (a fragment, or a row the form is made of), from the cache while
    the agency's forms version is the one it was made under."""
    # One cache round trip for both: the fragment is kept with the version it was made under.
    found = cache.get_many([_version_key(agency_id), key])
    version = found.get(_version_key(agency_id))
    if version is None:
        version = secrets.token_hex(8)
        # add(): two processes starting at once agree on one version.
        if not cache.add(_version_key(agency_id), version, None):
            version = cache.get(_version_key(agency_id)) or version
    kept = found.get(key)
    if isinstance(kept, tuple) and len(kept) == 2 and kept[0] == version:
        return kept[1]
    fragment = render()
    cache.set(key, (version, fragment), FORM_FRAGMENT_SECONDS)
    return fragment


def _audience_key(request: HttpRequest) -> str:
    signed_in = bool(getattr(request.user, "is_authenticated", False))
    return f"{get_language()}:{'signed-in' if signed_in else 'guest'}"


def fields_html(
    request: HttpRequest, form: Form, *, agency_id: int, name: str, skip: Iterable[str] = ()
) -> str:
    """The form's fields (less ``skip``) as ``_field.html`` renders them, in their order.

    Both parts are the engine's own safe output (a cached fragment was pickled as such) and
    two safe strings added stay safe; anything else in the cache would only be shown
    escaped, never as markup."""
    skipped = set(skip)
    names = [field for field in form.fields if field not in skipped]
    if form.is_bound:
        return _render(form, names)
    fixed = [field for field in names if field not in _PER_RENDERING]
    key = f"form-fields:{name}:{agency_id}:{_audience_key(request)}"
    fragment = kept(agency_id, key, lambda: _render(form, fixed))
    return fragment + _render(form, [field for field in names if field in _PER_RENDERING])


def per_rendering_html(form: Form) -> str:
    """The fields that differ with every rendering (the one-time ``submission_key``)."""
    return _render(form, [field for field in form.fields if field in _PER_RENDERING])


def blank_key_html(key: str) -> str:
    """A blank form's one-time key, as its hidden widget renders it (``<input type="hidden"
    name="submission_key" value="..." id="id_submission_key">``) without a template per view."""
    return format_html(
        '<input type="hidden" name="submission_key" value="{}" id="id_submission_key">', key
    )


def blank_body_html(
    request: HttpRequest, *, agency_id: int, name: str, render: Callable[[], str]
) -> str:
    """A blank form's whole body (``render()``'s output: notices, fields, buttons; never the
    CSRF token or a per-rendering field, which the caller adds), kept like the fields: per
    agency, language and sign-in state under the forms version. On a hit the page reads none
    of what the form is made of (settings, departments, request types, questions)."""
    return kept(agency_id, f"form-body:{name}:{agency_id}:{_audience_key(request)}", render)


def kept_fragment(*, agency_id: int, key: str, render: Callable[[], str]) -> str:
    """Another blank form's fields (``render`` makes them) kept as the request form's are:
    under the agency's forms version, so a change to its departments, request types, custom
    fields or request settings is never shown stale. ``key`` names everything else the
    fragment depends on (the form, the language, the role's view of the choices); the
    agency is added here."""
    return kept(agency_id, f"form-fragment:{agency_id}:{key}", render)
