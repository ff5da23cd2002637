"""Personal-data detectors: US Social Security numbers, payment card numbers, email
addresses, US phone numbers and dates of birth.

``find(text)`` returns ``Match`` objects carrying the kind, where the value is in the text,
a masked excerpt (``***-**-6789``, ``**** **** **** 4242``, ``j***@example.org``,
``(***) ***-1234``, ``**/**/1984``) and a keyed digest of the normalised value (HMAC-SHA256
with a key derived from SECRET_KEY): enough to show staff what was found and to recognise the
same value again, never the value itself.

The rules, and what they deliberately leave out:

- SSN: ``NNN-NN-NNNN`` anywhere; ``NNN NN NNNN`` and a bare ``NNNNNNNNN`` only within a few
  words after "SSN", "social security", "soc. sec." or "SS#". Never area 000, 666 or
  900-999, group 00 or serial 0000, nor the two numbers famously printed in advertising
  (078-05-1120, 219-09-9999). A dashed number right after "order", "invoice", "case",
  "ticket", "ref", "tracking", "confirmation", "part", "serial", "model", "PO", "item",
  "SKU" or "ISBN" is taken for that, unless an SSN word is also near.
- Card: 13-19 digits written together, or in groups of 4 (4-4-4-4, up to 4-4-4-4-3) or
  the Amex/Diners grouping (4-6-5, 4-6-4) with one kind of separator (space or dash);
  Luhn-valid; with the prefix and length of a real scheme (Visa, Mastercard, Amex,
  Discover, JCB, Diners Club, UnionPay, Maestro). ISBNs (978/979) have no card prefix.
- Email: ``local@domain.tld`` (a letter or digit first, a TLD of letters).
- Phone: North American numbers, ``(NXX) NXX-XXXX``, ``NXX-NXX-XXXX``, with dots or spaces,
  optionally ``+1``/``1-`` first; area code and exchange start 2-9, no ``N11`` area codes.
  Ten bare digits only after "phone", "tel", "cell", "mobile", "fax" or "call", or with +1.
  Seven-digit local numbers and non-US numbers are not detected.
- Date of birth: a date (``MM/DD/YYYY``, ``M-D-YY``, ``YYYY-MM-DD``, ``May 17, 1984``,
  ``17 May 1984``) within 40 characters after "DOB", "date of birth", "birth date",
  "birthday" or "born", or right before "(DOB)"; a plausible date (1900 to this year).

Anything after the word "ISBN" is never a finding. Matches never overlap: SSNs win over
cards, cards over phone numbers, phone numbers over dates, dates over emails.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac

SSN = "ssn"
CARD = "card"
EMAIL = "email"
PHONE = "phone"
BIRTH_DATE = "birth_date"  # the values of documents.models.FindingKind

_DIGEST_SALT = "documents.pii.finding"


@dataclass(frozen=True)
class Match:
    kind: str
    start: int
    end: int
    excerpt: str  # masked, safe to store and show
    digest: str  # HMAC-SHA256 of the normalised value, hex


@functools.lru_cache(maxsize=4)
def _keyed(secret: str):
    """salted_hmac's HMAC for our salt with nothing hashed yet: copied for each value, it
    gives exactly ``salted_hmac(_DIGEST_SALT, value)`` without deriving the key again (a
    spreadsheet can hold a million values)."""
    return salted_hmac(_DIGEST_SALT, b"", secret=secret, algorithm="sha256")


def digest(kind: str, normalised: str) -> str:
    """The keyed digest of a normalised value (what Finding.value_digest stores):
    ``salted_hmac(_DIGEST_SALT, f"{kind}:{normalised}", algorithm="sha256")``, hex."""
    keyed = _keyed(settings.SECRET_KEY).copy()
    keyed.update(f"{kind}:{normalised}".encode())
    return keyed.hexdigest()


def _near_before(text: str, start: int, pattern: re.Pattern, window: int) -> bool:
    return pattern.search(text, max(0, start - window), start) is not None


_ISBN = re.compile(r"\bisbn", re.IGNORECASE)


def _after_isbn(text: str, start: int) -> bool:
    return _near_before(text, start, _ISBN, 24)


# --- SSN ---------------------------------------------------------------------------------

_SSN_HINTS = re.compile("ss|soc")
_SSN_WORDS = re.compile(
    r"(?:\bssn|\bss\s*#|\bss\s*no\b|\bsocial\s+security|\bsoc\.?\s*sec\b)", re.IGNORECASE
)
_SSN_NOT = re.compile(
    r"\b(?:order|invoice|case|ticket|ref|reference|tracking|confirmation|part|serial|model|po"
    r"|item|sku|isbn)\b[^0-9]{0,12}$",
    re.IGNORECASE,
)
_SSN_DASHED = re.compile(r"(?<![\w-])(\d{3})-(\d{2})-(\d{4})(?![\w]|-\d)")
_SSN_SPACED = re.compile(r"(?<![\w-])(\d{3}) (\d{2}) (\d{4})(?![\w-])")
_SSN_BARE = re.compile(r"(?<![\w.,-])(\d{3})(\d{2})(\d{4})(?![\w-]|[.,]\d)")
_SSN_INVALID = {"078051120", "219099999"}


def _ssn_valid(area: str, group: str, serial: str) -> bool:
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and area + group + serial not in _SSN_INVALID
    )


def _windows(
    text: str, lowered: str, words: re.Pattern, before: int, after: int, hints: re.Pattern
) -> Iterator[tuple[int, int]]:
    """(pos, endpos) around each context word, merged when they overlap: the forms of a
    value that need a context word are only looked for there. ``hints``: a plain pattern
    one of whose lower-case fragments every context word contains (a fast first test)."""
    if not hints.search(lowered):
        return
    current = None
    for word in words.finditer(text):
        start, end = max(0, word.start() - before), min(len(text), word.end() + after)
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            yield current
        current = (start, end)
    if current is not None:
        yield current


def _ssn_candidates(text: str, lowered: str) -> Iterator[tuple[re.Match, bool]]:
    for m in _SSN_DASHED.finditer(text):
        yield m, False
    for pos, endpos in _windows(text, lowered, _SSN_WORDS, 0, 60, _SSN_HINTS):
        for pattern in (_SSN_SPACED, _SSN_BARE):
            for m in pattern.finditer(text, pos, min(len(text), endpos + 2)):
                yield m, True


def _ssn(text: str, lowered: str) -> Iterator[Match]:
    for m, needs_context in _ssn_candidates(text, lowered):
        area, group, serial = m.groups()
        if not _ssn_valid(area, group, serial) or _after_isbn(text, m.start()):
            continue
        context = _near_before(text, m.start(), _SSN_WORDS, 40)
        if needs_context and not context:
            continue
        if not context and _SSN_NOT.search(text, max(0, m.start() - 30), m.start()):
            continue
        yield Match(SSN, m.start(), m.end(), f"***-**-{serial}", digest(SSN, area + group + serial))


# --- Payment cards -------------------------------------------------------------------------

_CARD_CANDIDATE = re.compile(
    r"(?<![\w.,-])(?:"
    r"\d{13,19}"
    r"|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?"
    r"|\d{4}([ -])\d{6}\2\d{4,5}"
    r")(?![\w-]|[.,]\d)"
)
_CARD_NOT = re.compile(
    r"\b(?:order|invoice|tracking|confirmation|ref|reference|isbn)\b[^0-9]{0,12}$",
    re.IGNORECASE,
)


def _in(value: int, low: int, high: int) -> bool:
    return low <= value <= high


def _scheme(number: str) -> str | None:
    """The card scheme whose prefix and length the number has, or None."""
    n = len(number)
    p1, p2, p3, p4, p6 = (int(number[:k]) for k in (1, 2, 3, 4, 6))
    if p1 == 4 and n in (13, 16, 19):
        return "visa"
    if (_in(p2, 51, 55) or _in(p4, 2221, 2720)) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or _in(p3, 644, 649) or p2 == 65 or _in(p6, 622126, 622925)) and _in(n, 16, 19):
        return "discover"
    if _in(p4, 3528, 3589) and _in(n, 16, 19):
        return "jcb"
    if (_in(p3, 300, 305) or p4 == 3095 or p2 in (36, 38, 39)) and _in(n, 14, 19):
        return "diners"
    if p2 == 62 and _in(n, 16, 19):
        return "unionpay"
    if p4 in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763) and _in(n, 13, 19):
        return "maestro"
    return None


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _card(text: str, lowered: str) -> Iterator[Match]:
    for m in _CARD_CANDIDATE.finditer(text):
        number = re.sub(r"[ -]", "", m.group())
        if not 13 <= len(number) <= 19 or not luhn_valid(number) or _scheme(number) is None:
            continue
        if _CARD_NOT.search(text, max(0, m.start() - 30), m.start()):
            continue
        stars = "**** " * ((len(number) - 4 + 3) // 4)
        yield Match(CARD, m.start(), m.end(), f"{stars}{number[-4:]}", digest(CARD, number))


# --- Email -------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24})(?![\w-])"
)


def _email(text: str, lowered: str) -> Iterator[Match]:
    for m in _EMAIL.finditer(text):
        local, domain = m.group(1), m.group(2).lower()
        yield Match(
            EMAIL,
            m.start(),
            m.end(),
            f"{local[0]}***@{domain}",
            digest(EMAIL, f"{local.lower()}@{domain}"),
        )


# --- Phone -------------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\w+-])(?P<country>\+?1[ .-]?)?"
    r"(?:\(\s*(?P<area1>[2-9]\d\d)\s*\)[ .-]?\s?|(?P<area2>[2-9]\d\d)[ .-])"
    r"(?P<exchange>[2-9]\d\d)[ .-](?P<line>\d{4})(?![\w]|-\d)"
)
_PHONE_BARE = re.compile(r"(?<![\w.,+-])([2-9]\d\d)([2-9]\d\d)(\d{4})(?![\w-])")
_PHONE_PLUS = re.compile(r"\+1\s?([2-9]\d\d)([2-9]\d\d)(\d{4})(?![\w-])")
_PHONE_HINTS = re.compile("phone|tel|cell|mobile|fax|call|contact")
_PHONE_WORDS = re.compile(
    r"\b(?:phone|tel|telephone|cell|mobile|fax|call|contact\s+number)\b", re.IGNORECASE
)


def _phone_match(text: str, start: int, end: int, area: str, exchange: str, line: str):
    if area[1:] == "11":
        return None
    return Match(PHONE, start, end, f"(***) ***-{line}", digest(PHONE, area + exchange + line))


def _phone(text: str, lowered: str) -> Iterator[Match]:
    for m in _PHONE.finditer(text):
        if _after_isbn(text, m.start()):
            continue
        area = m.group("area1") or m.group("area2")
        found = _phone_match(text, m.start(), m.end(), area, m.group("exchange"), m.group("line"))
        if found is not None:
            yield found
    bare = list(_PHONE_PLUS.finditer(text)) if "+1" in text else []
    for pos, endpos in _windows(text, lowered, _PHONE_WORDS, 0, 45, _PHONE_HINTS):
        for m in _PHONE_BARE.finditer(text, pos, min(len(text), endpos + 2)):
            if _near_before(text, m.start(), _PHONE_WORDS, 30):
                bare.append(m)
    for m in bare:
        found = _phone_match(text, m.start(), m.end(), *m.groups())
        if found is not None:
            yield found


# --- Dates of birth ------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_DATES = (
    # 05/17/1984, 5-17-84, 17.05.1984 (day first when the month can't be first)
    re.compile(
        r"(?<![\w/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
        r"(?![\w/]|[.-]\d)"
    ),
    re.compile(r"(?<![\w/.-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\w/]|-\d)"),
    re.compile(
        rf"(?<![\w])(?P<mon>{_MONTH})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})"
        r"(?!\w)",
        re.IGNORECASE,
    ),
    re.compile(
        rf"(?<![\w])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mon>{_MONTH})\.?,?\s+(?P<y>\d{{4}})"
        r"(?!\w)",
        re.IGNORECASE,
    ),
)
_DOB_HINTS = re.compile(r"dob|d\.o|d\. o|d o b|birth|born")
_DOB_WORDS = re.compile(
    r"(?:\bd\.?\s?o\.?\s?b\b\.?|\bdate\s+of\s+birth|\bbirth\s*date|\bbirthday|\bborn\b)",
    re.IGNORECASE,
)
_DOB_AFTER = re.compile(r"\s*\(?\s*(?:dob|d\.o\.b\.?|date of birth)\b", re.IGNORECASE)


# The calendar furthest ahead on Earth (Line Islands, UTC+14).
_FURTHEST_AHEAD = datetime.timezone(datetime.timedelta(hours=14))


def _latest_today() -> datetime.date:
    """The latest date that is today somewhere. A birth date is never in the future, but
    whose? The scanner serves every agency and knows none, and the server's own date (UTC) is
    a day behind an agency in Auckland every morning: a baby born there today would be refused
    and its birth date left unmasked. Judged by the calendar furthest ahead, a date is refused
    only when it has not come yet anywhere."""
    return datetime.datetime.now(_FURTHEST_AHEAD).date()


def _year(raw: str, today: datetime.date) -> int:
    if len(raw) == 4:
        return int(raw)
    value = int(raw)
    this = today.year % 100
    return 2000 + value if value <= this else 1900 + value


def _parsed(m: re.Match) -> datetime.date | None:
    groups = m.groupdict()
    today = _latest_today()
    year = _year(groups["y"], today)
    if not 1900 <= year <= today.year:
        return None
    if groups.get("mon"):
        candidates = [(_MONTHS[groups["mon"].lower()], int(groups["d"]))]
    elif groups.get("m"):
        candidates = [(int(groups["m"]), int(groups["d"]))]
    else:
        a, b = int(groups["a"]), int(groups["b"])
        candidates = [(a, b), (b, a)]  # US month first; day first when that is impossible
    for month, day in candidates:
        try:
            found = datetime.date(year, month, day)
        except ValueError:
            continue
        return found if found <= today else None
    return None


def _birth_date(text: str, lowered: str) -> Iterator[Match]:
    for pos, endpos in _windows(text, lowered, _DOB_WORDS, 45, 70, _DOB_HINTS):
        yield from _birth_dates_in(text, pos, endpos)


def _birth_dates_in(text: str, pos: int, endpos: int) -> Iterator[Match]:
    for pattern in _DATES:
        for m in pattern.finditer(text, pos, min(len(text), endpos + 2)):
            before = _near_before(text, m.start(), _DOB_WORDS, 40)
            if not before and not _DOB_AFTER.match(text, m.end(), min(len(text), m.end() + 16)):
                continue
            found = _parsed(m)
            if found is None:
                continue
            yield Match(
                BIRTH_DATE,
                m.start(),
                m.end(),
                f"**/**/{found.year}",
                digest(BIRTH_DATE, found.isoformat()),
            )


# --- All of them ---------------------------------------------------------------------------

_CANDIDATE = re.compile(r"[0-9@]")
_NINE_DIGITS = re.compile(r"\d(?:\D{0,3}\d){8}")

DETECTORS: tuple[tuple[str, Callable[[str, str], Iterator[Match]]], ...] = (
    (SSN, _ssn),
    (CARD, _card),
    (PHONE, _phone),
    (BIRTH_DATE, _birth_date),
    (EMAIL, _email),
)


def find(text: str, *, kinds: tuple[str, ...] | None = None) -> list[Match]:
    """Every personal-data value in ``text``, in order of position, none overlapping."""
    if not _CANDIDATE.search(text):
        return []  # every kind needs a digit or an "@": most cells and lines have neither
    digits = _NINE_DIGITS.search(text) is not None
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lengthen when lowered: no fast hints
        lowered = "".join(c.lower()[:1] for c in text)
    taken: list[Match] = []  # sorted by start, never overlapping
    starts: list[int] = []
    for kind, detector in DETECTORS:
        if kinds is not None and kind not in kinds:
            continue
        if (kind in (SSN, CARD, PHONE) and not digits) or (kind == EMAIL and "@" not in text):
            continue  # SSNs, cards and phone numbers have nine digits at least
        for found in detector(text, lowered):
            index = bisect.bisect_left(starts, found.start)
            if index > 0 and taken[index - 1].end > found.start:
                continue
            if index < len(taken) and taken[index].start < found.end:
                continue
            taken.insert(index, found)
            starts.insert(index, found.start)
    return taken
