# ruff: noqa: E501 (the hosted page's HTML and Stripe's own long messages read better whole)
"""The local Stripe's HTTP side: the API under ``/v1/``, the hosted checkout page under
``/c/pay/<session>``, webhook delivery, and ``/_control/`` for tests and the demo.

Control endpoints (JSON in, JSON out; the server listens on loopback only):

- ``POST /_control/accounts`` {"api_key", "account_id"?, "display_name"?, "webhook_url"?,
  "webhook_secret"?, "default_currency"?}: register a key for an account (new or existing).
- ``POST /_control/behaviour`` {"delay": seconds, "down": bool, "failing": bool}: answer API
  calls late, not at all (the connection is closed) or with a 500; ``{}`` puts it right.
- ``GET /_control/events?account=acct_...``: every event signed for the account, with its
  exact body and its deliveries.
- ``POST /_control/sign`` {"account", "payload", "timestamp"?}: a Stripe-Signature header for
  any body, with the account's webhook secret.
- ``POST /_control/events/<id>/deliver``: deliver an event again (now).
"""

from __future__ import annotations

import hashlib
import html
import http.client
import json
import queue
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.stripe_server import api
from tests.stripe_server.state import Event, Store, StripeError, new_id, sign

MAX_BODY = 1_000_000


class Deliverer:
    """Sends events to their account's webhook URL, one after the other, in the order they
    were made; retries a failed delivery a few times (Stripe retries for days)."""

    RETRIES = (0.5, 1.0, 2.0)

    def __init__(self, store: Store) -> None:
        self.store = store
        self.queue: queue.Queue[Event | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="local-stripe-webhooks", daemon=True)
        self.thread.start()

    def send(self, event: Event) -> None:
        self.queue.put(event)

    def stop(self) -> None:
        self.queue.put(None)

    def _run(self) -> None:
        while (event := self.queue.get()) is not None:
            for pause in (0.0, *self.RETRIES):
                time.sleep(pause)
                if self.deliver(event):
                    break

    def deliver(self, event: Event, *, timestamp: int | None = None) -> bool:
        account = self.store.accounts.get(event.account)
        if account is None or not account.webhook_url or not account.webhook_secret:
            return True  # nowhere to send: kept for /_control/events
        url = urlsplit(account.webhook_url)
        host = url.hostname or "127.0.0.1"
        # Every *.localhost name is this machine (as browsers resolve it).
        connect_to = "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host
        record: dict[str, Any] = {"at": time.time(), "url": account.webhook_url}
        try:
            connection = http.client.HTTPConnection(connect_to, url.port or 80, timeout=10)
            connection.request(
                "POST",
                url.path + (f"?{url.query}" if url.query else ""),
                body=event.payload.encode(),
                headers={
                    "Host": url.netloc,
                    "Content-Type": "application/json; charset=utf-8",
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                    "Stripe-Signature": sign(event.payload, account.webhook_secret, timestamp),
                },
            )
            response = connection.getresponse()
            response.read()
            record["status"] = response.status
            connection.close()
        except OSError as exc:
            record["error"] = str(exc)
        with self.store.lock:
            event.deliveries.append(record)
        return 200 <= record.get("status", 0) < 300


class LocalStripeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, Handler)
        self.store = Store()
        self.deliverer = Deliverer(self.store)
        self.store.listener = self.deliverer.send

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def server_close(self) -> None:
        self.deliverer.stop()
        super().server_close()


class Handler(BaseHTTPRequestHandler):
    server: LocalStripeServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing --------------------------------------------------------------------------

    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise StripeError(413, "Request too large")
        return self.rfile.read(length).decode("utf-8", "replace") if length else ""

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any, **headers: str) -> None:
        body = json.dumps(data, indent=2).encode()
        self._send(status, body, "application/json", Request_Id=new_id("req"), **headers)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        try:
            body = self._body()
            if url.path.startswith("/_control/"):
                self._control(method, url.path, url.query, body)
            elif url.path.startswith("/c/pay/"):
                self._page(method, url.path.removeprefix("/c/pay/"), body)
            elif url.path.startswith("/v1/"):
                self._api(method, url.path, url.query, body)
            else:
                raise StripeError(404, f"Unrecognized request URL ({method}: {url.path}).")
        except StripeError as error:
            self._json(error.status, error.body)

    # --- the API ---------------------------------------------------------------------------

    def _api(self, method: str, path: str, query: str, body: str) -> None:
        behaviour = self.server.store.behaviour
        if behaviour.delay:
            time.sleep(behaviour.delay)
        if behaviour.down:
            self.close_connection = True
            self.connection.close()
            return
        if behaviour.failing:
            raise StripeError(500, "An unknown error occurred", kind="api_error")
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        account = self.server.store.account_for_key(auth[7:].strip())
        if self.headers.get("Stripe-Account") not in (None, "", account.id):
            raise StripeError(
                403,
                "The provided key does not have access to account "
                f"'{self.headers['Stripe-Account']}' (or that account does not exist).",
                kind="invalid_request_error",
                code="account_invalid",
            )
        key = self.headers.get("Idempotency-Key")
        if method == "POST" and key:
            fingerprint = hashlib.sha256(f"{path}\n{body}".encode()).hexdigest()
            with self.server.store.lock:
                earlier = self.server.store.idempotent.get((account.id, key))
                if earlier is not None:
                    if earlier[0] != fingerprint:
                        raise StripeError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request.",
                            kind="idempotency_error",
                        )
                    self._json(earlier[1], earlier[2], Idempotent_Replayed="true")
                    return
                status, data = self._route(method, path, query, body, account)
                if 200 <= status < 300:
                    self.server.store.idempotent[(account.id, key)] = (fingerprint, status, data)
        else:
            status, data = self._route(method, path, query, body, account)
        self._json(status, data)

    def _route(self, method, path, query, body, account) -> tuple[int, dict[str, Any]]:
        store = self.server.store
        parts = path.strip("/").split("/")[1:]
        params = api.parse_form(body) if method == "POST" else api.parse_form(query)
        match method, parts:
            case "GET", ["account"]:
                return 200, account.as_stripe()
            case "POST", ["checkout", "sessions"]:
                return 200, api.create_session(store, account, params, self.server.base)
            case "GET", ["checkout", "sessions", session_id]:
                return 200, _public(api.session_state(store, account, session_id))
            case "POST", ["checkout", "sessions", session_id, "expire"]:
                return 200, api.expire_session(store, account, session_id)
            case "GET", ["payment_intents", intent_id]:
                return 200, _public(store.get(account, "payment_intent", intent_id))
            case "GET", ["charges", charge_id]:
                return 200, _public(store.get(account, "charge", charge_id))
            case "POST", ["refunds"]:
                return 200, api.create_refund(store, account, params)
            case "GET", ["refunds"]:
                return 200, api.list_refunds(store, account, params)
            case "GET", ["refunds", refund_id]:
                return 200, _public(store.get(account, "refund", refund_id))
            case "GET", ["events", event_id]:
                event = store.event(event_id)
                if event.account != account.id:
                    raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing")
                return 200, json.loads(event.payload)
        raise StripeError(404, f"Unrecognized request URL ({method}: {path}).")

    # --- the hosted checkout page ----------------------------------------------------------

    def _page(self, method: str, session_id: str, body: str) -> None:
        store = self.server.store
        with store.lock:
            found = store.objects.get(session_id)
        if found is None or found.get("object") != "checkout.session":
            self._send(
                404,
                _html("Not found", "<p>This payment page does not exist.</p>"),
                "text/html; charset=utf-8",
            )
            return
        account = store.accounts[found["_account"]]
        session = api.session_state(store, account, session_id)
        message = ""
        values = {"card": "", "expiry": "", "cvc": "", "name": ""}
        if method == "POST":
            form = dict(parse_qsl(body, keep_blank_values=True))
            values.update({k: form.get(k, "") for k in values})
            message = api.pay_session(
                store, account, session, values["card"], values["expiry"], values["cvc"]
            )
            if not message:
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                self._send(303, b"", "text/plain", Location=target)
                return
        self._send(
            200 if not message else 402,
            _checkout_html(account.display_name, session, message, values),
            "text/html; charset=utf-8",
        )

    # --- control ---------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: str, body: str) -> None:
        store = self.server.store
        data = json.loads(body) if body.strip() else {}
        parts = path.strip("/").split("/")[1:]
        match method, parts:
            case "POST", ["accounts"]:
                account = store.register(**data)
                self._json(200, asdict(account))
            case "POST", ["behaviour"]:
                store.behaviour.delay = float(data.get("delay", 0))
                store.behaviour.down = bool(data.get("down", False))
                store.behaviour.failing = bool(data.get("failing", False))
                self._json(200, asdict(store.behaviour))
            case "GET", ["events"]:
                account_id = dict(parse_qsl(query)).get("account", "")
                self._json(200, [asdict(e) for e in store.events_of(account_id)])
            case "POST", ["sign"]:
                account = store.accounts[data["account"]]
                header = sign(data["payload"], account.webhook_secret, data.get("timestamp"))
                self._json(200, {"header": header})
            case "POST", ["events", event_id, "deliver"]:
                delivered = self.server.deliverer.deliver(store.event(event_id))
                self._json(200, {"delivered": delivered})
            case "GET", ["health"]:
                self._json(200, {"ok": True})
            case _:
                raise StripeError(404, f"Unknown control endpoint {method} {path}")


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _money(cents: int, currency: str) -> str:
    return f"{'$' if currency in ('usd', 'cad') else ''}{cents // 100:,}.{cents % 100:02d} {currency.upper()}"


def _html(title: str, content: str) -> bytes:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 30rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input {{ width: 100%; padding: .6rem; font-size: 1.1rem; box-sizing: border-box; }}
button {{ margin-top: 1.5rem; width: 100%; padding: .8rem; font-size: 1.1rem; background: #4b44c8; color: #fff; border: 0; border-radius: 4px; }}
.error {{ background: #fde8e8; border: 1px solid #b42318; color: #7a1610; padding: .8rem; }}
.note {{ color: #555; font-size: .9rem; }}
</style></head><body><main>{content}</main></body></html>""".encode()


def _checkout_html(
    business: str, session: dict[str, Any], message: str, values: dict[str, str]
) -> bytes:
    amount = _money(session["amount_total"], session["currency"])
    if session["status"] != "open":
        state = "has been paid" if session["status"] == "complete" else "has expired"
        return _html("Payment", f"<h1>{html.escape(business)}</h1><p>This payment {state}.</p>")
    lines = "".join(
        f"<li>{html.escape(line['description'])}: {_money(line['amount_total'], session['currency'])}</li>"
        for line in session["_lines"]
    )
    error = (
        f'<p class="error" role="alert" id="card-error">{html.escape(message)}</p>'
        if message
        else ""
    )
    cancel = (
        f'<p><a href="{html.escape(session["cancel_url"])}">Cancel and go back</a></p>'
        if session.get("cancel_url")
        else ""
    )
    v = {k: html.escape(val) for k, val in values.items()}
    content = f"""<h1>Pay {html.escape(business)}</h1>
<p class="amount">Amount due: <strong>{amount}</strong></p><ul>{lines}</ul>
<p class="note">Local test Stripe: nothing is charged. Card 4242 4242 4242 4242 succeeds;
4000 0000 0000 0002 is declined. Any future expiry date and any 3 digits.</p>
{error}
<form method="post" novalidate>
<label for="card">Card number</label>
<input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value="{v["card"]}" required>
<label for="expiry">Expiry (MM / YY)</label>
<input id="expiry" name="expiry" autocomplete="cc-exp" placeholder="12 / 34" value="{v["expiry"]}" required>
<label for="cvc">Security code (CVC)</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" value="{v["cvc"]}" required>
<label for="name">Name on card</label>
<input id="name" name="name" autocomplete="cc-name" value="{v["name"]}">
<button type="submit">Pay {amount}</button>
</form>{cancel}"""
    return _html(f"Pay {business}", content)


class LocalStripe:
    """A handle on a running local Stripe, for tests and the demo seed (plain HTTP calls to
    its control endpoints, so it works the same for a thread or another process)."""

    def __init__(self, base: str, server: LocalStripeServer | None = None) -> None:
        self.base = base.rstrip("/")
        self.server = server

    def _call(self, method: str, path: str, data: Any = None, *, timeout: float = 10) -> Any:
        url = urlsplit(self.base)
        connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
        try:
            body = json.dumps(data).encode() if data is not None else None
            connection.request(
                method, path, body=body, headers={"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            raise RuntimeError(f"local Stripe {method} {path}: {response.status} {payload!r}")
        return json.loads(payload) if payload else None

    def reachable(self) -> bool:
        try:
            self._call("GET", "/_control/health", timeout=2)
        except (OSError, RuntimeError):
            return False
        return True

    def register_account(self, **values: str) -> dict[str, Any]:
        """``api_key`` (required), ``account_id``, ``display_name``, ``webhook_url``,
        ``webhook_secret``, ``default_currency``."""
        return self._call("POST", "/_control/accounts", values)

    def behave(self, *, delay: float = 0.0, down: bool = False, failing: bool = False) -> None:
        self._call(
            "POST", "/_control/behaviour", {"delay": delay, "down": down, "failing": failing}
        )

    def events(self, account_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        events = self._call("GET", f"/_control/events?account={account_id}")
        return [e for e in events if kind is None or e["type"] == kind]

    def sign(self, account_id: str, payload: str, timestamp: int | None = None) -> str:
        data = {"account": account_id, "payload": payload, "timestamp": timestamp}
        return self._call("POST", "/_control/sign", data)["header"]

    def pay(
        self, session_url: str, card: str = "4242 4242 4242 4242", **form: str
    ) -> tuple[int, str, str]:
        """Fill in and send the hosted page's form as a browser would; (status, the address it
        redirects to or "", the page's text)."""
        url = urlsplit(session_url)
        values = {"card": card, "expiry": "12 / 34", "cvc": "123", "name": "Test Payer", **form}
        connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
        try:
            connection.request(
                "POST",
                url.path,
                body=urlencode(values),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        return response.status, response.getheader("Location") or "", text


def start_in_thread(
    host: str = "127.0.0.1", port: int = 0
) -> tuple[LocalStripeServer, threading.Thread]:
    """Serve on ``host``:``port`` (0: a free port) from a daemon thread."""
    server = LocalStripeServer((host, port))
    thread = threading.Thread(target=server.serve_forever, name="local-stripe", daemon=True)
    thread.start()
    return server, thread
