"""Structured logs: one JSON line per request and per task, with the route's name and never
a path, a password, a token, a session key, a form's text or a document's text.

``json_logs`` (tests/log_capture.py) collects what the test logs, formatted and filtered as
the production console handler does. The whole run's logs are scanned too, when it ends.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import path, reverse

from accounts.models import User
from accounts.tasks import send_email
from accounts.tenancy import agency_context
from config.structured_logs import REQUEST_ID_HEADER, _pass_request_id, bind_request_id
from config.structured_logs import unbind_request_id as unbind
from documents import converters  # noqa: F401  (registers <signed_link:...>)
from documents.models import ReleaseLevel
from documents.release import document_release
from requests_portal.management.commands.seed_demo import DEMO_PASSWORD
from requests_portal.models import RecordsRequest
from tests.documents.helpers import pdf_with_text, stored_document
from tests.log_capture import SecretRegistry, find_secrets
from tests.requests_portal.helpers import form_data

pytestmark = pytest.mark.django_db


def boom(request, token):
    raise RuntimeError("the view failed")


# For the server-error test: a route with a token in its path, as download links have.
urlpatterns = [path("boom/<signed_link:token>/", boom, name="boom")]
handler500 = "config.views.server_error"

_LINK = re.compile(r"https?://[^/\s]+(/\S+)")
_KEY_INPUT = re.compile(r'name="submission_key" value="([0-9a-f-]{36})"')


def one_request_line(json_logs) -> dict:
    (entry,) = json_logs.entries("request")
    return entry


def test_each_request_writes_one_json_line_naming_its_route_not_its_path(
    tenant, client_for, json_logs
):
    number = client_for(tenant.staff, tenant.host).get(reverse("staff:request_queue"))
    entry = one_request_line(json_logs)

    assert entry["request_id"] == number["X-Request-ID"]
    assert entry["route"] == "staff:request_queue"
    assert entry["method"] == "GET"
    assert entry["status"] == 200
    assert entry["agency"] == "alpha"
    assert entry["agency_id"] == tenant.agency.pk
    assert entry["user_id"] == tenant.staff.pk
    assert entry["level"] == "INFO"
    assert entry["logger"] == "portal.requests"
    assert isinstance(entry["duration_ms"], float)
    assert entry["duration_ms"] >= 0
    assert "/staff/requests/" not in json_logs.lines[-1]


def test_a_request_line_has_no_user_for_a_visitor_and_no_agency_on_the_platform(
    settings, json_logs
):
    Client(HTTP_HOST=settings.PORTAL_BASE_DOMAIN).get(reverse("healthz"))
    entry = one_request_line(json_logs)
    assert entry["route"] == "healthz"
    assert entry["user_id"] is None
    assert entry["agency"] is None


def test_a_path_that_matches_no_route_is_not_logged(tenant, json_logs):
    secretish = "no-such-page-Zq8XnT4rLm2Pw7Ks"
    response = Client(HTTP_HOST=tenant.host).get(f"/{secretish}/")
    assert response.status_code == 404
    entry = one_request_line(json_logs)
    assert entry["route"] is None
    assert entry["status"] == 404
    assert not any(secretish in line for line in json_logs.lines)


def test_newlines_and_terminal_escapes_in_a_user_agent_are_encoded(tenant, json_logs):
    hostile = 'Mozilla\n{"level":"ERROR","message":"forged"}\r\x1b[31mred\x1b[0m\u2028end'
    Client(HTTP_HOST=tenant.host, HTTP_USER_AGENT=hostile).get("/")
    (line,) = [line for line in json_logs.lines if '"event":"request"' in line]

    assert not any(c in line for c in ("\n", "\r", "\x1b", "\u2028"))
    assert "\\u001b[31m" in line and "\\n" in line
    assert json.loads(line)["user_agent"] == hostile


def test_django_s_own_warnings_name_the_route_instead_of_the_path(tenant, client_for, json_logs):
    """A refused form post (CSRF) is logged by Django with the path: a download link's path
    carries its token."""
    token = "dGhpcy1pcy1ub3QtcmVhbA:1vAbCd:Zq8XnT4rLm2Pw7KsYy0aBcDeFgHiJkLmNoPqRsTuVw"
    client = Client(HTTP_HOST=tenant.host, enforce_csrf_checks=True)
    response = client.post(reverse("document_download", args=[token]))
    assert response.status_code == 403

    csrf = [e for e in json_logs.entries() if e["logger"] == "django.security.csrf"]
    assert csrf, json_logs.lines
    assert csrf[0]["message"].endswith(": document_download")
    assert not any(token in line for line in json_logs.lines)


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_is_logged_with_its_route_and_traceback_but_not_its_path(tenant, json_logs):
    token = "c2VjcmV0LXRva2Vu:1vAbCd:Qw3rTy7uIoPaSdFgHjKlZxCvBnM"
    client = Client(HTTP_HOST=tenant.host, raise_request_exception=False)
    assert client.get(f"/boom/{token}/").status_code == 500

    (error,) = [e for e in json_logs.entries() if e["logger"] == "django.request"]
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: boom"
    assert "RuntimeError: the view failed" in error["exception"]
    line = one_request_line(json_logs)
    assert (line["route"], line["status"], line["level"]) == ("boom", 500, "ERROR")
    assert not any(token in line for line in json_logs.lines)


def test_a_task_writes_one_line_with_its_name_id_agency_state_and_duration(tenant, json_logs):
    send_email.delay(agency_id=tenant.agency.pk, subject="Hi", body="Secret body", to=["a@b.c"])
    (entry,) = json_logs.entries("task")
    assert entry["task"] == "accounts.tasks.send_email"
    assert entry["task_id"]
    assert entry["agency_id"] == tenant.agency.pk
    assert entry["state"] == "SUCCESS"
    assert entry["duration_ms"] >= 0
    assert not any("Secret body" in line or "a@b.c" in line for line in json_logs.lines)


def test_a_failed_task_is_logged_as_an_error(json_logs):
    with pytest.raises(TypeError):
        send_email.delay(subject="Hi", body="x", to=["a@b.c"])  # no agency_id: refused
    (entry,) = json_logs.entries("task")
    assert entry["state"] == "FAILURE"
    assert entry["level"] == "ERROR"


def test_a_task_sent_during_a_request_carries_the_request_id():
    headers: dict = {}
    token = bind_request_id("req-0123456789")
    try:
        _pass_request_id(headers=headers)
    finally:
        unbind(token)
    assert headers == {REQUEST_ID_HEADER: "req-0123456789"}


def test_production_writes_json_to_stdout(settings):
    from config.structured_logs import logging_settings

    console = logging_settings("json", "INFO")["handlers"]["console"]
    assert console["formatter"] == "json"
    assert console["stream"] == "ext://sys.stdout"
    assert "hide_paths" in console["filters"]
    assert settings.LOGGING["handlers"]["console"]["filters"] == console["filters"]


# --- The realistic flow, scanned -----------------------------------------------------------


def test_a_realistic_flow_leaves_no_secret_in_the_logs(
    tenant, json_logs, django_capture_on_commit_callbacks
):
    """Sign in with the demo password, file a request, download a released document
    through its signed link, reset the password: none of the password, the new password,
    the session key, the download token, the reset link's token, the request's text or the
    document's text appears in any log line."""
    resident = User.objects.create_user("demo-resident@example.org", DEMO_PASSWORD)
    browser = Client(HTTP_HOST=tenant.host)
    signed_in = browser.post(
        reverse("accounts:login"), {"username": resident.email, "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302, signed_in.content[:500]
    session_key = browser.cookies["sessionid"].value

    description = "Every memo about the Quillfeather culvert, 2019 to 2024."
    key = _KEY_INPUT.search(browser.get(reverse("request_new")).content.decode())[1]
    with django_capture_on_commit_callbacks(execute=True):
        filed = browser.post(
            reverse("request_new"),
            form_data(
                title="Culvert memos",
                description=description,
                email=resident.email,
                submission_key=key,
            ),
        )
    assert filed.status_code == 302
    with agency_context(tenant.agency):
        records_request = RecordsRequest.objects.get(agency=tenant.agency, title="Culvert memos")
    assert records_request.requester_id == resident.pk

    document_text = "Zanzibar-Octavo culvert inspection notes"
    document = stored_document(records_request, pdf_with_text(document_text))
    with agency_context(tenant.agency):
        document_release(document=document, level=ReleaseLevel.REQUESTER, actor=tenant.admin)
    issued = browser.post(
        reverse(
            "resident_document_link",
            kwargs={"number": records_request.number, "document_id": document.public_id},
        )
    )
    assert issued.status_code == 303
    download_path = issued["Location"]
    download_token = download_path.rstrip("/").rsplit("/", 1)[-1]
    downloaded = browser.get(download_path)
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content).startswith(b"%PDF")

    new_password = "quillfeather-culvert-2026-new"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        Client(HTTP_HOST=tenant.host).post(
            reverse("accounts:password_reset"), {"email": resident.email}
        )
    reset_path = _LINK.search(mail.outbox[-1].body)[1]
    platform = Client(HTTP_HOST=tenant.host.split(".", 1)[1])
    form_page = platform.get(reset_path, follow=True)
    saved = platform.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert saved.status_code == 302
    resident.refresh_from_db()
    assert resident.check_password(new_password)

    routes = {e["route"] for e in json_logs.entries("request")}
    assert {
        "accounts:login",
        "request_new",
        "resident_document_link",
        "document_download",
        "accounts:password_reset",
        "accounts:password_reset_confirm",
    } <= routes
    assert {e["task"] for e in json_logs.entries("task")} >= {"accounts.tasks.send_email"}

    secrets = SecretRegistry()
    for value in (DEMO_PASSWORD, new_password, description, document_text):
        secrets.password(value)
    for value in (session_key, download_token, reset_path.strip("/").rsplit("/", 1)[-1]):
        secrets.token(value)
    assert len(secrets.tokens) == 3
    assert list(find_secrets(json_logs.lines, secrets)) == []


def test_the_scan_finds_a_token_inside_a_longer_run_and_a_password_in_json():
    secrets = SecretRegistry()
    secrets.token("Zq8XnT4rLm2Pw7KsYy0a")
    secrets.password('pass "phrase" \\ 2026')
    lines = [
        '{"message":"GET /d/xxZq8XnT4rLm2Pw7KsYy0ayy/"}',
        '{"message":"clean line with Zq8XnT4rLm2Pw7Ks only"}',
        json.dumps({"message": 'typed pass "phrase" \\ 2026'}),
    ]
    assert list(find_secrets(lines, secrets)) == [(1, "a token or session key"), (3, "a password")]


def test_the_run_s_log_capture_is_attached_with_the_console_filters():
    root = logging.getLogger()
    capture = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    assert capture, "tests/log_capture.py did not attach its handler"
    console = next(h for h in root.handlers if h.name == "console")
    assert capture[0].filters == console.filters


def test_a_secret_in_the_run_s_logs_fails_the_run(tmp_path):
    """The plugin itself: a run whose only test passes but logs the factory password ends
    with exit status 1 and names the line."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    leaky = tmp_path / "test_leaky.py"
    leaky.write_text(
        "import logging\n"
        "from tests.factories import TEST_PASSWORD\n"
        "def test_logs_a_password():\n"
        "    logging.getLogger('leaky').warning('typed %s', TEST_PASSWORD)\n"
    )
    result = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(root / "pyproject.toml"),
            "--rootdir",
            str(root),
            "-p",
            "tests.log_capture",
            "-p",
            "no:cacheprovider",
            "-q",
            str(leaky),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "secrets in the logs" in result.stdout
    assert "1 log line(s) hold a secret" in result.stdout
    kept = re.search(r"the log is kept at (\S+)", result.stdout)[1]
    Path(kept).unlink()
