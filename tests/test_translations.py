"""Residents can use the portal in Spanish: no resident-facing template shows text outside
the translation tags, every string those templates and the resident-facing Python modules
mark has a Spanish translation (not fuzzy), and the committed compiled catalogue is the one
its .po makes. Staff pages may stay English for now, but no staff template shows text outside
the translation tags either (a translator can take them on), and every template is on one
of the lists.

Needs GNU gettext (xgettext, msgfmt, msgen): scripts/ensure-system-packages installs it.
Lists what is left: ``python -m tests.translations`` (see tests/translations.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.translations import (
    LOCALE,
    PENDING,
    TEMPLATES,
    UNSORTED,
    all_templates,
    checked_staff_templates,
    checked_templates,
    committed,
    compiled,
    gettext_missing,
    missing_translations,
    msgids_of,
    resident_templates,
    staff_pending,
    staff_templates,
    untranslated_in,
    untranslated_text,
)


def _need_gettext() -> None:
    missing = gettext_missing()
    assert not missing, (
        f"GNU gettext is needed for the catalogue checks ({', '.join(missing)} missing): "
        "run scripts/ensure-system-packages build"
    )


@pytest.mark.parametrize("name", checked_templates())
def test_resident_template_shows_no_untranslated_text(name):
    assert untranslated_in(name) == [], (
        f"templates/{name}: wrap this text in {{% translate %}} / {{% blocktranslate %}}, "
        "then `make messages` and translate it in locale/es/LC_MESSAGES/django.po"
    )


def test_every_resident_template_is_checked_or_pending():
    """The pending list stays honest: each entry exists, is resident-facing, and still has
    untranslated text (once translated, it comes off the list and is checked)."""
    resident = set(resident_templates())
    for name in PENDING:
        assert name in resident, f"{name} is pending but not a resident-facing template"
        assert (TEMPLATES / name).exists()
        assert untranslated_in(name), f"{name} is translated now: take it off PENDING"
    assert set(checked_templates()) | set(PENDING) == resident


@pytest.mark.parametrize("name", checked_staff_templates())
def test_staff_template_shows_no_untranslated_text(name):
    """Staff pages need no Spanish yet, but every word is marked, so that translating them
    later is only a matter of filling in the catalogue."""
    assert untranslated_in(name) == [], (
        f"templates/{name}: wrap this text in {{% translate %}} / {{% blocktranslate %}}, "
        "then `make messages` (an empty Spanish msgstr is fine on a staff page)"
    )


def test_every_template_is_on_a_list():
    """A new template is scanned from the start: it is resident-facing or staff (a folder on
    either list takes in its new files), or waits with a reason."""
    resident, staff = set(resident_templates()), set(staff_templates())
    assert not resident & staff, "a template is on both lists"
    for name in UNSORTED:
        assert (TEMPLATES / name).exists(), f"{name} is gone: take it off UNSORTED"
        assert name not in resident | staff, f"{name} is on a list now: take it off UNSORTED"
    unlisted = [
        name
        for name in all_templates()
        if name not in resident | staff | set(UNSORTED) and staff_pending(name) is None
    ]
    assert unlisted == [], (
        "add these to RESIDENT_TEMPLATES or STAFF_TEMPLATES (tests/translations.py)"
    )


def test_staff_pending_templates_still_wait():
    """STAFF_PENDING stays honest: a staff template it covers that has been marked in the
    meantime comes off it (and is checked). A pattern may match nothing yet: the templates
    are being written on other branches."""
    staff = set(staff_templates())
    for name in all_templates():
        why = staff_pending(name)
        if why is not None:
            assert name in staff, f"{name} is pending ({why}) but not on STAFF_TEMPLATES"
            assert untranslated_in(name), f"{name} is marked now: take it off STAFF_PENDING"


def test_the_scanner_finds_text_outside_the_translation_tags():
    source = """{% load i18n %}<h1>Welcome</h1>
    <p>{% translate "Done" %} <a href="{% url 'home' %}" title="Home page">{{ x }}</a></p>
    <p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %} · 3</p>
    <input type="submit" value="Send"><img alt="A map" src="/m.png">
    {% comment %}Not shown{% endcomment %}{# nor this #}<script>var s = "code";</script>
    {{ label|default:"Next page" }}{{ label|default:_("Fine") }}
    {% if reason == "keys destroyed" %}{% endif %}"""
    assert untranslated_text(source) == [
        "Next page",
        "Welcome",
        'title="Home page"',
        'value="Send"',
        'alt="A map"',
    ]
    assert untranslated_text(
        "{% load i18n %}Line one\n{% translate 'Two' %}\n{{ link }}\n", plain_text=True
    ) == ["Line one"]


def test_every_msgid_residents_read_has_a_spanish_translation():
    """Fuzzy and empty entries count as missing (msgfmt leaves them out of the .mo)."""
    _need_gettext()
    missing = missing_translations("es")
    assert missing == {}, "translate these in locale/es/LC_MESSAGES/django.po, then make messages"


def test_strings_only_staff_read_need_no_spanish_yet(tmp_path):
    """In a resident-facing module, a msgid used only by its staff forms is left out of the
    Spanish check; one a resident form uses too stays in."""
    _need_gettext()
    used = msgids_of([], ["requests_portal/forms.py"], tmp_path)

    assert "Any department" in used  # the archive's filter
    assert "Status" in used  # the archive's filter and the staff queue's
    assert "Save internal note" not in used  # the staff message form only
    assert "Not acknowledged" not in used  # the staff queue's filter only


def test_the_committed_catalogue_is_compiled_from_its_po():
    """Django reads the .mo; a .po edited without `make messages` would change nothing."""
    _need_gettext()
    pos = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))
    assert pos, "no catalogues under locale/"
    with tempfile.TemporaryDirectory() as tmp:
        for po in pos:
            assert po.with_suffix(".mo").exists(), f"{po}: run make messages"
            assert committed(po) == compiled(po, Path(tmp)), f"{po}: run make messages"


def test_fuzzy_and_empty_entries_do_not_count_as_translated(tmp_path):
    _need_gettext()
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Done"\nmsgstr "Hecho"\n\n'
        '#, fuzzy\nmsgid "Open"\nmsgstr "Abierta"\n\n'
        'msgid "Closed"\nmsgstr ""\n'
    )

    catalog = compiled(po, tmp_path)

    assert catalog.get("Done") == "Hecho"
    assert "Open" not in catalog
    assert "Closed" not in catalog
