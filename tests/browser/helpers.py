"""Builders and page actions the browser tests share (tests/browser/test_*.py): the data a page
needs, committed in the test's agency; sending a page's form; moving with the keyboard only.
Not a test module, so the tests can import it (tests/test_test_modules.py)."""

from __future__ import annotations

from accounts.tenancy import agency_context
from documents.models import RedactionReason
from requests_portal.models import Department, RecordsRequest
from requests_portal.services import agency_settings, submission

# The longest way the Tab key may have to go to reach an element: more stops than any page of
# the portal has before its main form's last button.
MAX_TABS = 120


def open_every_section(page) -> None:
    """Opens the page's collapsed sections (<details>): axe only checks what is shown."""
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")


def submit(page, action: str = "") -> None:
    """Sends the form of the page that posts to a URL containing ``action`` (``/reply/``;
    by default the page's main form, which posts to the page itself), as it is."""
    form = f"form[method=post][action*='{action}']" if action else "form.form[method=post]"
    with page.expect_navigation():
        page.locator(f"main {form} [type=submit]").first.click()


def filed_request(agency, *, title: str, requester=None, email: str = "") -> RecordsRequest:
    with agency_context(agency):
        return submission.request_submit(
            agency=agency,
            actor=requester,
            title=title,
            description="Every incident report for 100 Main St in March 2026.",
            contact=submission.Contact(name="Ann Resident", email=email),
            channel="web",
        )


def with_defaults(agency) -> None:
    """What a new agency is given (closure reasons, holidays), plus a department and a
    redaction reason, so the settings and redaction pages have rows to show."""
    with agency_context(agency):
        agency_settings.agency_setup_defaults(agency=agency, state="IL")
        Department.objects.get_or_create(agency=agency, name="Police")
        RedactionReason.objects.get_or_create(agency=agency, label="Personal privacy")


# The focused element matches ``selector`` (a CSS selector), or its visible text is ``text``.
_FOCUSED_IS = """([selector, text]) => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  if (selector) return el.matches(selector);
  return (el.innerText || el.value || "").trim() === text;
}"""


def tab_to(page, selector: str = "", *, text: str = "") -> None:
    """Presses Tab until the focus is on the element ``selector`` matches (or whose text is
    ``text``), as a keyboard user would; fails if Tab never gets there."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(_FOCUSED_IS, [selector, text]):
            return
    raise AssertionError(f"the Tab key never reached {selector or text!r} on {page.url}")


def keyboard_follow(page, selector: str = "", *, text: str = "", key: str = "Enter") -> None:
    """Tabs to a link or button and presses ``key`` on it (Enter, or Space for a button),
    waiting for the page it leads to."""
    tab_to(page, selector, text=text)
    with page.expect_navigation():
        page.keyboard.press(key)


def keyboard_fill(page, selector: str, value: str) -> None:
    """Tabs to a field and types ``value`` into it, key by key."""
    tab_to(page, selector)
    page.keyboard.type(value)
