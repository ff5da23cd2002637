"""What residents and staff read, and whether it is translated: the lists of resident-facing
and staff templates and Python modules, a scanner that finds visible text left outside
``{% translate %}`` / ``{% blocktranslate %}``, and the catalogue checks (GNU gettext's xgettext
and msgfmt). Resident-facing text is marked and has Spanish; staff text is marked (Spanish may
come later: English shows until then).

Shared by tests/test_translations.py and runnable on its own to list what is left to do:

    .venv/bin/python -m tests.translations            # untranslated text, file by file
    .venv/bin/python -m tests.translations --staff    # the same for the staff templates
    .venv/bin/python -m tests.translations --missing  # msgids without Spanish

To bring a template in: mark its text, run ``make messages``, translate the new entries of
locale/es/LC_MESSAGES/django.po, run ``make messages`` again (compiles the .mo), then add the
template to RESIDENT_TEMPLATES (or take it off PENDING). A staff template only needs its text
marked (STAFF_TEMPLATES, or take it off STAFF_PENDING).
"""

from __future__ import annotations

import ast
import fnmatch
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

# Resident-facing templates: whole folders (their files, not subfolders), shell patterns and
# single files, relative to templates/. A file named on its own wins over a folder or pattern of
# the other list (the staff pages among the requests pages, the resident panel among the
# documents pages).
RESIDENT_TEMPLATES = [
    "base.html",
    "403.html",
    "404.html",
    "500.html",
    "_field.html",
    "_fields.html",
    "_form_errors.html",
    "_pager.html",
    "form_refused.html",
    "accounts/_agency_contact.html",
    "accounts/_checkbox_field.html",
    "accounts/_password_field.html",
    "accounts/_password_rules.html",
    "accounts/agency_home.html",
    "accounts/notice.html",
    "accounts/rate_limited.html",
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
    "residents/",
    "accounts/password_change.html",
    "accounts/email_change.html",
    "accounts/email_change_confirm.html",
    "accounts/security.html",
    "accounts/_sign_in_method.html",
    "accounts/reauthenticate.html",
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
    "billing/_resident_panel.html",
    "billing/_pay_form.html",
    "billing/pay_return.html",
    "billing/pay_cancel.html",
    "billing/_invoice_body.html",
    "billing/invoice_page.html",
    "billing/email/",
    "accounts/hashing_busy.html",
    # A person's own API tokens (residents make them too) and the public status page.
    "api/tokens.html",
    "ops/status.html",
    "ops/_status_incidents.html",
]

# Staff templates: every word marked for translation, Spanish not required yet (English shows
# where a msgid has none). Same notation as RESIDENT_TEMPLATES.
STAFF_TEMPLATES = [
    "ops/status_incidents.html",
    "ops/agencies/",
    "api/agency_tokens.html",
    "mailin/",
    "_post_form.html",
    "_row_action.html",
    "audit/",
    "accounts/admin/",
    "accounts/support/",
    "ops/",
    "accounts/_support_*",
    "accounts/email/support_*",
    "accounts/staff_dashboard.html",
    "accounts/member_list.html",
    "accounts/member_detail.html",
    "accounts/invitation_accept.html",
    "accounts/invitation_invalid.html",
    "accounts/invitation_other_account.html",
    "accounts/invitation_sso.html",
    "accounts/link_provider.html",
    "accounts/sso_error.html",
    "accounts/email/invitation.txt",
    "accounts/email/invitation_subject.txt",
    "documents/",
    "requests_portal/admin/",
    "requests_portal/staff/",
    "requests_portal/department_detail.html",
    "requests_portal/department_list.html",
    "requests_portal/staff_queue.html",
    "requests_portal/staff_request_detail.html",
    "requests_portal/staff_request_new.html",
    "requests_portal/email/staff_*",
    "billing/_staff_panel.html",
    "billing/staff_*",
    "billing/report.html",
    "billing/_fee_*",
    "billing/_cost_recovery.html",
    "billing/connect.html",
    "billing/_refund_form.html",
    "webhooks/",
]

# Staff templates not marked yet, being rewritten on other branches: shell pattern → why.
STAFF_PENDING = {
    "audit/*": "the audit log viewer is being rewritten (issue 10): marked once it lands",
    "accounts/support/*": "support access is being built: marked once it lands",
    "accounts/_support_*": "support access is being built: marked once it lands",
    "accounts/email/support_*": "support access is being built: marked once it lands",
}

# Resident-facing templates on neither list yet: another branch is translating them (they
# join RESIDENT_TEMPLATES there). A name comes off once it is on a list.
UNSORTED: dict[str, str] = {}

# Resident-facing, not translated yet: template → why it waits.
PENDING: dict[str, str] = {}

# Parts of a template another change is rewriting, left out of the scan until then.
PENDING_REGIONS: dict[str, re.Pattern[str]] = {}

# Python modules whose marked strings residents read (form labels, errors, messages).
# Their staff-only parts are in STAFF_PYTHON_PARTS.
RESIDENT_PYTHON = [
    "accounts/account_views.py",
    "accounts/agency_contact_views.py",
    "accounts/contact.py",
    "accounts/forms.py",
    "accounts/middleware.py",
    "accounts/once.py",
    "accounts/passwords.py",
    "accounts/signin/forms.py",
    "accounts/signin/views.py",
    "accounts/signin/mfa_views.py",
    "accounts/signup_views.py",
    "requests_portal/forms.py",
    "requests_portal/models.py",
    "requests_portal/privacy.py",
    "requests_portal/services/submission.py",
    "requests_portal/timeline_text.py",
    "requests_portal/views/resident.py",
    "documents/templatetags/documents.py",
    "billing/models.py",
    "billing/pdf.py",
    "billing/services/checkout.py",
    "billing/services/payments.py",
    "billing/stripe_gateway.py",
    "billing/timeline_text.py",
    "billing/views/payment.py",
    "residents/forms.py",
    "residents/views.py",
]

# Top-level classes and functions of the modules above that only staff see: their strings are
# marked but need no Spanish yet (a msgid also used by a resident part still does).
STAFF_PYTHON_PARTS = {
    "billing/views/payment.py": {"invoice_refund"},
    "accounts/forms.py": {
        "InvitationPasswordForm",
        "InviteForm",
        "RoleForm",
        "SignInPolicyForm",
        "AgencyContactForm",
    },
    "requests_portal/forms.py": {
        "StaffRequestForm",
        "MessageForm",
        "ReasonForm",
        "ExtendForm",
        "DueDateForm",
        "CloseForm",
        "DescriptionReviewForm",
        "VisibilityForm",
        "RouteForm",
        "QueueFilterForm",
        "TaskForm",
        "TagsForm",
        "TimeEntryForm",
    },
}

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
_LITERAL = re.compile(r"""(?<![_(])(?:default:|(?<![=!<>])(?<!class)=)\s*(["'])([^"']*?)\1""")


def all_templates() -> list[str]:
    """Every template (.html, .txt), relative to templates/, sorted."""
    return sorted(
        str(p.relative_to(TEMPLATES))
        for p in TEMPLATES.rglob("*")
        if p.is_file() and p.suffix in (".html", ".txt")
    )


def _expand(entries: list[str]) -> tuple[set[str], set[str]]:
    """(files named on their own, files of the folders and patterns) of a template list."""
    named: set[str] = set()
    grouped: set[str] = set()
    everything = all_templates()
    for entry in entries:
        if entry.endswith("/"):
            grouped |= {name for name in everything if name.rpartition("/")[0] + "/" == entry}
        elif "*" in entry:
            grouped |= set(fnmatch.filter(everything, entry))
        else:
            named.add(entry)
    return named, grouped


def _lists() -> tuple[set[str], set[str]]:
    resident_named, resident_grouped = _expand(RESIDENT_TEMPLATES)
    staff_named, staff_grouped = _expand(STAFF_TEMPLATES)
    resident = resident_named | (resident_grouped - staff_named)
    staff = staff_named | (staff_grouped - resident_named)
    return resident, staff


def resident_templates() -> list[str]:
    """Every resident-facing template, relative to templates/, sorted (PENDING left in)."""
    return sorted(_lists()[0])


def checked_templates() -> list[str]:
    return [name for name in resident_templates() if name not in PENDING]


def staff_templates() -> list[str]:
    """Every staff template, sorted (those matching STAFF_PENDING left in)."""
    return sorted(_lists()[1])


def staff_pending(name: str) -> str | None:
    """Why staff template ``name`` is not checked yet, or None."""
    for pattern, why in STAFF_PENDING.items():
        if fnmatch.fnmatch(name, pattern):
            return why
    return None


def checked_staff_templates() -> list[str]:
    return [name for name in staff_templates() if staff_pending(name) is None]


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
    locations = _locations(pot.read_text(), workdir)
    staff_lines = _staff_lines()
    result = {}
    for key in keys:
        if not key:
            continue  # the header
        plain = key[0] if isinstance(key, tuple) else key
        where = locations.get(plain, [])
        if where and all(_in_staff_part(place, staff_lines) for place in where):
            continue  # only staff read it: marked is enough for now
        result[plain] = where[0] if where else "?"
    return result


def _locations(pot: str, workdir: Path) -> dict[str, list[str]]:
    """Every place ("file:line", templates relative to templates/, modules to the project)
    each msgid of a .pot file is used, keyed as in a compiled catalogue."""
    result: dict[str, list[str]] = {}
    for entry in pot.split("\n\n"):
        places: list[str] = []
        parts: dict[str, str] = {}
        field = None
        for line in entry.splitlines():
            if line.startswith("#: "):
                places += line[3:].split()
            elif line.startswith(("msgctxt ", "msgid ")):
                field, _sep, rest = line.partition(" ")
                parts[field] = ast.literal_eval(rest)
            elif line.startswith('"') and field:
                parts[field] += ast.literal_eval(line)
            elif line.startswith("msgid_plural"):
                field = None
        if not parts.get("msgid"):
            continue
        key = parts["msgid"]
        if "msgctxt" in parts:
            key = parts["msgctxt"] + "\x04" + key
        result[key] = [_place(place, workdir) for place in places]
    return result


def _place(place: str, workdir: Path) -> str:
    place = place.replace(str(workdir / "templates") + "/", "").replace(".html.py:", ".html:")
    place = place.replace(".txt.py:", ".txt:")
    return place.replace(str(ROOT) + "/", "")


def _staff_lines() -> dict[str, list[tuple[int, int]]]:
    """The line ranges of STAFF_PYTHON_PARTS, module by module."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for module, names in STAFF_PYTHON_PARTS.items():
        tree = ast.parse((ROOT / module).read_text())
        found = {
            node.name: (node.lineno, node.end_lineno or node.lineno)
            for node in tree.body
            if isinstance(node, (ast.ClassDef, ast.FunctionDef))
        }
        missing = names - found.keys()
        if missing:
            raise LookupError(f"{module} has no {', '.join(sorted(missing))} (STAFF_PYTHON_PARTS)")
        ranges[module] = [found[name] for name in names]
    return ranges


def _in_staff_part(place: str, staff_lines: dict[str, list[tuple[int, int]]]) -> bool:
    module, _sep, line = place.rpartition(":")
    return any(first <= int(line) <= last for first, last in staff_lines.get(module, []))


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
    if "--staff" in argv:
        for name in staff_templates():
            for text in untranslated_in(name):
                print(f"{name}: {text}")
        return 0
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
