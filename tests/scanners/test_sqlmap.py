"""sqlmap, an attacker's SQL injection tool, against the live portal: the public request
form (POST, with its CSRF and one-time form tokens), the archive's search and filters, and
the staff queue's filters with a staff member's session. No parameter may be injectable, and
no payload may meet a server error. Each failure names the parameter and the payload.

Without sqlmap the tests skip locally and fail under REQUIRE_SERVICES=1 (CI)."""

from __future__ import annotations

from urllib.parse import urlencode

from accounts.tenancy import agency_context
from requests_portal.models import RecordsRequest
from tests.scanners.pages import fetch, form_fields
from tests.scanners.sqlmap import assert_not_injectable, run_sqlmap

FORM_PARAMETERS = ["title", "description", "delivery", "name", "email", "phone", "address"]
FILTER_PARAMETERS = ["q", "status", "department", "since", "until", "page"]


def _filters(target, **extra) -> dict[str, str]:
    return {
        "q": "council",
        "status": extra.pop("status", "open"),
        "department": str(target.a.department.pk),
        "since": "2020-01-01",
        "until": "2030-12-31",
        **extra,
        "page": "1",
    }


def test_the_public_request_form_has_no_injectable_parameter(target, tmp_path):
    host = target.host_header(target.a)
    form_page = fetch(target.port, host, "/requests/new/")
    assert form_page.status == 200
    fields = form_fields(form_page, "request-form")
    # Without the form's one-time key every payload files a request of its own (with it,
    # each would only find the request the key already filed, and never reach the query).
    del fields["submission_key"]
    fields.update(
        title="Council minutes",
        description="The minutes of 2025.",
        name="Rita Resident",
        email="rita@example.com",
        phone="555-0100",
        address="1 Main Street",
    )
    data = urlencode(fields)
    cookie = form_page.cookie_header()
    # The tokens work: the form as sent, untouched, files a request (else sqlmap would only
    # ever meet a refusal and prove nothing).
    filed = fetch(target.port, host, "/requests/new/", cookie=cookie, method="POST", body=data)
    assert filed.status in (302, 303), (filed.status, filed.body[:2000])

    run = run_sqlmap(
        target.url("/requests/new/"),
        host=host,
        parameters=FORM_PARAMETERS,
        workdir=tmp_path,
        # The CSRF cookie and the form's token stay a valid pair for every request (Django
        # keeps the cookie's secret; the token is only a masked copy of it), so sqlmap needs
        # no fresh token per request, which would double the requests of a bounded run.
        extra=["--data", data, "--cookie", cookie],
    )

    assert_not_injectable(run, "POST", FORM_PARAMETERS)
    with agency_context(target.a.agency):
        filed_by_scan = RecordsRequest.objects.filter(agency=target.a.agency).count() - 5
    assert filed_by_scan > 0, "no payload reached the form's service:\n" + run.output[-3000:]


def test_the_archive_search_and_filters_have_no_injectable_parameter(target, tmp_path):
    host = target.host_header(target.a)
    path = "/archive/?" + urlencode(_filters(target))
    page = fetch(target.port, host, path)
    assert page.status == 200 and "Council minutes 2025" in page.body

    run = run_sqlmap(target.url(path), host=host, parameters=FILTER_PARAMETERS, workdir=tmp_path)

    assert_not_injectable(run, "GET", FILTER_PARAMETERS)


def test_the_staff_queue_filters_have_no_injectable_parameter(target, tmp_path):
    host = target.host_header(target.a)
    parameters = [*FILTER_PARAMETERS, "scope", "sort"]
    path = "/staff/requests/?" + urlencode(_filters(target, status="any", scope="all", sort="due"))
    cookie = target.staff_cookie()
    page = fetch(target.port, host, path, cookie=cookie)
    # Signed in with two-factor passed: the queue itself, not a sign-in page.
    assert page.status == 200 and "Council minutes 2025" in page.body

    run = run_sqlmap(
        target.url(path),
        host=host,
        parameters=parameters,
        workdir=tmp_path,
        extra=["--cookie", cookie],
    )

    assert_not_injectable(run, "GET", parameters)
