"""Every date and time a page, an email or an export shows goes through one helper
(accounts.local_time, and its template filters in accounts/templatetags/agency_time.py): on
the agency's clock, naming its zone. Django's own |date and |time filters show a moment in
whatever zone happens to be active and never say which, so templates do not use them, nor
the other ways of printing a moment (timesince, naturaltime, {% now %}, the timezone tags).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ["vault", "audit", "accounts", "requests_portal", "documents", "billing", "config"]

RAW_FILTER = re.compile(
    r"\|\s*(date|time|timesince|timeuntil|naturaltime|naturalday|localtime|utc|timezone)\b"
)
RAW_TAG = re.compile(r"{%\s*(now|localtime|timezone|get_current_timezone)\b")

# Templates allowed a raw filter or tag, each with the reason. Keep it empty if you can.
ALLOWED: dict[str, str] = {}


def _templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*"))
    for app in PRODUCT:
        found += list((ROOT / app).glob("**/templates/**/*"))
    return sorted(path for path in found if path.is_file() and path.suffix in {".html", ".txt"})


def test_there_are_templates_to_check():
    assert len(_templates()) > 50


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_templates_show_dates_and_times_through_the_agency_time_filters(path):
    name = str(path.relative_to(ROOT))
    if name in ALLOWED:
        return
    text = path.read_text()
    raw = [m.group(0) for m in (*RAW_FILTER.finditer(text), *RAW_TAG.finditer(text))]
    assert not raw, (
        f"{name} formats a date or time itself ({', '.join(raw)}): use |agency_datetime, "
        "|agency_date or the other filters of accounts/templatetags/agency_time.py, which "
        "show the agency's clock and name its zone"
    )


def test_product_code_formats_no_moment_with_strftime():
    offenders = [
        str(path.relative_to(ROOT))
        for app in PRODUCT
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and ".strftime(" in path.read_text()
    ]
    assert offenders == [], "format dates with accounts.local_time (format_date, format_datetime)"


def test_the_check_catches_a_raw_date_filter():
    assert RAW_FILTER.search('{{ r.created_at|date:"M j, Y" }}')
    assert RAW_FILTER.search("{{ e.created_at | time }}")
    assert RAW_TAG.search('{% now "Y" %}')
    assert not RAW_FILTER.search("{{ r.created_at|agency_datetime }} {{ r.due_date|agency_date }}")
