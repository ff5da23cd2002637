"""What residents read, and whether it is translated: the list of resident-facing templates
and Python modules, a scanner that finds visible text left outside ``{% translate %}`` /
``{% blocktranslate %}``, and the catalogue checks (GNU gettext's xgettext and msgfmt).

Shared by tests/test_translations.py and runnable on its own to list what is left to do:

    .venv/bin/python -m tests.translations            # untranslated text, file by file
    .venv/bin/python -m tests.translations --missing  # msgids without Spanish

To bring a template in: mark its text, run ``make messages``, translate the new entries of
locale/es/LC_MESSAGES/django.po, run ``make messages`` again (compiles the .mo), then add the
template to RESIDENT_TEMPLATES (or take it off PENDING).
"""

from __future__ import annotations

import gettext
import html.parser
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
LOCALE = ROOT / "locale"

# Resident-facing templates: whole folders (their files, not subfolders) and single files,
# relative to templates/. Staff pages are not here (they may stay English for now).
RESIDENT_TEMPLATES = [
    "base.html",
    "403.html",
    "404.html",
    "500.html",
    "_field.html",
    "_form_errors.html",
    "_pager.html",
    "accounts/_checkbox_field.html",
    "accounts/_password_field.html",
    "accounts/_password_rules.html",
    "accounts/agency_home.html",
    "accounts/platform_home.html",
    "accounts/login.html",
    "accounts/signup.html",
    "accounts/signup_confirm.html",
    "accounts/signup_invalid.html",
    "accounts/signup_sent.html",
    "accounts/locked_out.html",
    "accounts/password_reset_form.html",
    "accounts/password_reset_done.html",
    "accounts/password_reset_confirm.html",
    "accounts/password_reset_complete.html",
    "accounts/mfa_verify.html",
    "accounts/mfa_setup.html",
    "accounts/mfa_recovery_codes.html",
    "accounts/mfa_recovery_confirm.html",
    "accounts/mfa_disable.html",
    "accounts/profile.html",
    "accounts/password_change.html",
    "accounts/email_change.html",
    "accounts/email_change_confirm.html",
    "accounts/email/password_reset.txt",
    "accounts/email/password_reset_subject.txt",
    "accounts/email/signup_confirm.txt",
    "accounts/email/signup_confirm_subject.txt",
    "accounts/email/signup_exists.txt",
    "accounts/email/signup_exists_subject.txt",
    "accounts/email/email_change.txt",
    "accounts/email/email_change_subject.txt",
    "accounts/email/email_change_taken.txt",
    "accounts/email/email_change_taken_subject.txt",
    "accounts/email/email_changed_notice.txt",
    "accounts/email/email_changed_notice_subject.txt",
    "requests_portal/",
    "requests_portal/email/closed.html",
    "requests_portal/email/closed.txt",
    "requests_portal/email/closed_subject.txt",
    "requests_portal/email/extended.html",
    "requests_portal/email/extended.txt",
    "requests_portal/email/extended_subject.txt",
    "requests_portal/email/message.html",
    "requests_portal/email/message.txt",
    "requests_portal/email/message_subject.txt",
    "requests_portal/email/submitted.html",
    "requests_portal/email/submitted.txt",
    "requests_portal/email/submitted_subject.txt",
    "documents/_resident_panel.html",
    "documents/link_refused.html",
]

# Staff pages that sit among the resident ones (in a folder listed above).
STAFF_TEMPLATES = {
    "requests_portal/department_detail.html",
    "requests_portal/department_list.html",
    "requests_portal/staff_queue.html",
    "requests_portal/staff_request_detail.html",
    "requests_portal/staff_request_new.html",
}

# Resident-facing, not translated yet (the second wave): template → why it waits.
PENDING = {
    "requests_portal/request_new.html": "being reworked (issue 10: who will read it)",
    "requests_portal/request_detail.html": "being reworked (issue 10: the confirmation page)",
    "requests_portal/_similar.html": "shown on the request form; with request_new.html",
}

# Parts of a template another change is rewriting, left out of the scan until then.
PENDING_REGIONS = {
    "base.html": re.compile(r"<footer\b.*?</footer>", re.S),
}

# Python modules whose marked strings residents read (form labels, errors, messages).
RESIDENT_PYTHON = [
    "accounts/account_views.py",
    "accounts/forms.py",
    "accounts/middleware.py",
    "accounts/passwords.py",
    "accounts/signin/forms.py",
    "accounts/signin/mfa_views.py",
    "accounts/signup_views.py",
    "requests_portal/forms.py",
    "requests_portal/models.py",
    "requests_portal/views/resident.py",
]

# Visible text that is the same in every language.
ALLOWED_TEXT = {"·", "PDF", "CSV"}

# Attributes people read (or hear from a screen reader).
VISIBLE_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description"}

_HOLE = "\ue000"  # stands for a template tag or variable in the scanned markup
_LETTER = re.compile(r"[^\W\d_]")
_TAG = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})", re.S)
_BLOCK_NAME = re.compile(r"{%-?\s*(\w+)")
# A literal string passed to a filter or an include (``default:"Next"``, ``with label="..."``):
# visible words unless wrapped in _( ).
_LITERAL = re.compile(r"""(?<![_(])(?:default:|(?<![=!<>])=)\s*(["'])([^"']*?)\1""")


def resident_templates() -> list[str]:
    """Every resident-facing template, relative to templates/, sorted (PENDING left in)."""
    names: set[str] = set()
    for entry in RESIDENT_TEMPLATES:
        if entry.endswith("/"):
            names |= {
                str(p.relative_to(TEMPLATES))
                for p in (TEMPLATES / entry).iterdir()
                if p.is_file() and p.suffix in (".html", ".txt")
            }
        else:
            names.add(entry)
    return sorted(names - STAFF_TEMPLATES)


def checked_templates() -> list[str]:
    return [name for name in resident_templates() if name not in PENDING]


def _visible(text: str) -> bool:
    words = text.replace(_HOLE, " ").strip()
    if not words or words in ALLOWED_TEXT:
        return False
    return bool(_LETTER.search(words))


class _TextCollector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attributes = dict(attrs)
        for name, value in attrs:
            if value and name in VISIBLE_ATTRIBUTES and _visible(value):
                self.found.append(f'{name}="{value}"')
        if tag == "input" and attributes.get("type") in ("submit", "button", "reset"):
            value = attributes.get("value") or ""
            if _visible(value):
                self.found.append(f'value="{value}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and _visible(data):
            self.found.append(" ".join(data.replace(_HOLE, " ").split()))


def untranslated_text(source: str, *, plain_text: bool = False) -> list[str]:
    """The visible text of template ``source`` outside ``{% translate %}`` and
    ``{% blocktranslate %}``: text nodes and readable attributes (HTML), or every line
    (``plain_text``, for emails and subjects), plus literal strings given to filters and
    includes. Comments, ``<script>`` and ``<style>`` are not read."""
    found: list[str] = []
    pieces: list[str] = []
    hidden_until: str | None = None  # inside a block whose content nobody reads as-is
    for piece in _TAG.split(source):
        if hidden_until is not None:
            if piece.startswith("{%") and _BLOCK_NAME.match(piece).group(1) == hidden_until:
                hidden_until = None
            continue
        if piece.startswith("{%"):
            name = _BLOCK_NAME.match(piece).group(1)
            if name in ("blocktranslate", "blocktrans"):
                hidden_until = "end" + name
            elif name == "comment":
                hidden_until = "endcomment"
            elif name == "verbatim":
                hidden_until = "endverbatim"
            if name not in ("translate", "trans", "blocktranslate", "blocktrans"):
                found += [text for _q, text in _LITERAL.findall(piece) if " " in text.strip()]
            pieces.append(_HOLE)
        elif piece.startswith("{{"):
            found += [text for _q, text in _LITERAL.findall(piece) if _visible(text)]
            pieces.append(_HOLE)
        elif piece.startswith("{#"):
            pieces.append(_HOLE)
        else:
            pieces.append(piece)
    markup = "".join(pieces)
    if plain_text:
        found += [" ".join(line.replace(_HOLE, " ").split()) for line in markup.splitlines()]
        return [text for text in found if _visible(text)]
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return found + collector.found


def untranslated_in(name: str) -> list[str]:
    source = (TEMPLATES / name).read_text()
    if name in PENDING_REGIONS:
        source = PENDING_REGIONS[name].sub("", source)
    return untranslated_text(source, plain_text=name.endswith(".txt"))


# --- The catalogue ---------------------------------------------------------------------------

GETTEXT_TOOLS = ("xgettext", "msgfmt", "msgen")

_KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
    "--keyword=_",
]


def gettext_missing() -> list[str]:
    return [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]


@dataclass(frozen=True)
class Msgid:
    key: str  # as a compiled catalogue keys it ("context\x04id", plurals by their first form)
    where: str


def _catalog(mo: Path) -> dict:
    with mo.open("rb") as f:
        return gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]


def _gettext(tool: str, *args: str) -> None:
    """Run one of GNU gettext's tools (found on PATH; fixed argv, our own files)."""
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} not found: run scripts/ensure-system-packages build")
    subprocess.run([path, *args], check=True)  # noqa: S603


def compiled(po: Path, workdir: Path) -> dict:
    """The catalogue msgfmt makes of ``po``: translated, non-fuzzy entries only."""
    mo = workdir / (po.stem + ".mo")
    _gettext("msgfmt", "--check-format", "-o", str(mo), str(po))
    return _catalog(mo)


def committed(po: Path) -> dict:
    return _catalog(po.with_suffix(".mo"))


def msgids_of(templates: list[str], python: list[str], workdir: Path) -> dict[str, str]:
    """Every msgid the given templates and Python modules mark, keyed as in a compiled
    catalogue, with where it is used: templates through Django's own ``templatize`` (what
    makemessages runs), then xgettext, as makemessages does."""
    from django.utils.translation.template import templatize

    sources: list[Path] = []
    for name in templates:
        src = workdir / "templates" / (name + ".py")
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(templatize((TEMPLATES / name).read_text(), origin=name))
        sources.append(src)
    sources += [ROOT / module for module in python]
    pot = workdir / "used.pot"
    _gettext(
        "xgettext",
        "--language=Python",
        "--from-code=UTF-8",
        "--add-location",
        "--force-po",
        *_KEYWORDS,
        "-o",
        str(pot),
        *map(str, sources),
    )
    # msgen copies each msgid into its msgstr: compiled, the catalogue's keys are the msgids.
    english = workdir / "used.po"
    _gettext("msgen", "--force-po", "-o", str(english), str(pot))
    english.write_text(
        english.read_text()
        .replace("charset=CHARSET", "charset=UTF-8")
        .replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);")
    )
    keys = compiled(english, workdir)
    where: dict[str, str] = {}
    location = None
    for line in pot.read_text().splitlines():
        if line.startswith("#: "):
            location = line[3:].split()[0].replace(str(workdir / "templates") + "/", "")
            location = location.replace(".py:", ":")
        elif line.startswith("msgid ") and location:
            where[line[6:].strip('"')] = location
    result = {}
    for key in keys:
        if not key:
            continue  # the header
        plain = key[0] if isinstance(key, tuple) else key
        result[plain] = where.get(plain.split("\x04")[-1][:60], "?")
    return result


def missing_translations(language: str = "es") -> dict[str, str]:
    """msgids the resident-facing templates and modules use that ``language`` has no
    (non-fuzzy) translation for, with where each is used."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        used = msgids_of(checked_templates(), RESIDENT_PYTHON, workdir)
        catalog = compiled(LOCALE / language / "LC_MESSAGES" / "django.po", workdir)
    have = {k[0] if isinstance(k, tuple) else k for k, v in catalog.items() if v}
    return {msgid: where for msgid, where in used.items() if msgid not in have}


def _main(argv: list[str]) -> int:
    import django

    django.setup()
    if "--missing" in argv:
        for msgid, where in sorted(missing_translations().items(), key=lambda i: i[1]):
            print(f"{where}: {msgid!r}")
        return 0
    for name in checked_templates() if "--checked" in argv else resident_templates():
        for text in untranslated_in(name):
            print(f"{name}: {text}")
    return 0


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.exit(_main(sys.argv[1:]))
