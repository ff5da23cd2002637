"""A walk through the portal's REST API with one token and nothing but Python's standard
library: file a request, follow it, upload a document, wait for its scan, download it back
through an expiring link, and read the request's timeline.

    API_TOKEN=rp_... python3 api_walkthrough.py https://springfield.example.gov --file minutes.pdf

The token needs requests:read, requests:write, documents:read and documents:write, and its
owner must be allowed to upload to the request (staff of the agency: a records system pushing
a request and its documents in). Each step prints what it did; the script stops with exit
status 1 and the API's error message at the first step that fails.

``--connect 127.0.0.1:8000`` sends every call to that address with the site's name in the
Host header, for a portal on this machine whose agency names do not resolve."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any


class ApiError(Exception):
    pass


class Api:
    """Calls to one agency's /api/v1/ with a bearer token."""

    def __init__(self, site: str, token: str, connect: str = "") -> None:
        parsed = urllib.parse.urlsplit(site)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ApiError(f"not a site address: {site!r} (e.g. https://springfield.example.gov)")
        self.scheme = parsed.scheme
        self.host = parsed.netloc
        self.connect = connect or parsed.netloc
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str = "",
        raw: bool = False,
    ) -> Any:
        # A link the API answers is absolute; only its path and query are sent, to this site.
        parts = urllib.parse.urlsplit(path)
        target = urllib.parse.urlunsplit((self.scheme, self.connect, parts.path, parts.query, ""))
        request = urllib.request.Request(  # noqa: S310  # nosec B310  # http(s), see __init__
            target, data=body, method=method
        )
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/json")
        request.add_header("Host", self.host)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  # nosec B310  # http(s)
                data = response.read()
        except urllib.error.HTTPError as error:
            raise ApiError(
                f"{method} {parts.path}: {error.code} {_message(error.read())}"
            ) from None
        except urllib.error.URLError as error:
            raise ApiError(
                f"{method} {parts.path}: cannot reach the site: {error.reason}"
            ) from None
        return data if raw else json.loads(data or b"null")

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        return self.call("POST", path, body=body, content_type="application/json")

    def post_file(self, path: str, field: str, filename: str, data: bytes) -> Any:
        boundary = uuid.uuid4().hex
        quoted = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        body = b"".join(
            [
                f"--{boundary}\r\n".encode(),
                f'Content-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'.encode(),
                b"Content-Type: application/octet-stream\r\n\r\n",
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        return self.call(
            "POST", path, body=body, content_type=f"multipart/form-data; boundary={boundary}"
        )


def _message(body: bytes) -> str:
    """The API's error message (one shape: {"error": {"message", "fields"}})."""
    try:
        error = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")
    fields = "; ".join(
        f"{name}: {' '.join(texts)}" for name, texts in error.get("fields", {}).items()
    )
    return f"{error.get('message', '')} {fields}".strip()


def walk(api: Api, document: Path, *, scan_timeout: float = 120.0) -> dict[str, Any]:
    """Every step against ``api``; returns what it found (the test reads it)."""
    key = str(uuid.uuid4())  # sent again on a retry, it answers the request already filed
    filed = api.post_json(
        "/api/v1/requests/",
        {
            "title": "Road repair contracts 2025",
            "description": "Every contract for road repairs signed in 2025, with amendments.",
            "submission_key": key,
        },
    )
    number = filed["number"]
    print(
        f"filed request {number}: {filed['status']}, acknowledge by {filed['acknowledge_due_date']}"
    )
    again = api.post_json(
        "/api/v1/requests/",
        {"title": filed["title"], "description": filed["description"], "submission_key": key},
    )
    if again["number"] != number:
        raise ApiError(f"the retry filed a second request ({again['number']})")
    print(f"sent again with the same submission key: still {number}")

    base = f"/api/v1/requests/{number}/"
    followed = api.get(base)
    listed = api.get("/api/v1/requests/?" + urllib.parse.urlencode({"q": "road repair"}))
    if number not in [each["number"] for each in listed["results"]]:
        raise ApiError(f"request {number} is not found by searching for it")
    print(f"following {number}: {followed['status']}; found by search")

    data = document.read_bytes()
    uploaded = api.post_file(f"{base}documents/", "files", document.name, data)
    print(f"uploaded {uploaded['filename']} ({uploaded['size']} bytes): {uploaded['status']}")
    path = f"{base}documents/{uploaded['id']}/"
    deadline = time.monotonic() + scan_timeout
    state = uploaded["status"]
    while state not in ("clean", "blocked", "failed"):
        if time.monotonic() > deadline:
            raise ApiError(f"the document was still {state!r} after {scan_timeout:.0f} s")
        time.sleep(1)
        state = api.get(path)["status"]
    print(f"scanned: {state}")
    if state == "blocked":
        raise ApiError("the document was blocked by the malware scan")

    link = api.call("POST", f"{path}link/")
    downloaded = api.call("GET", link["url"], raw=True)
    same = hashlib.sha256(downloaded).hexdigest() == hashlib.sha256(data).hexdigest()
    if not same:
        raise ApiError("the downloaded file differs from the uploaded one")
    until = link["expires_at"]
    print(f"downloaded {len(downloaded)} bytes through a link valid until {until}: identical")

    timeline = api.get(f"{base}timeline/")
    for entry in timeline:
        print(f"  {entry['created_at']}  {entry['kind']}: {entry['summary']}")
    return {"number": number, "document": uploaded["id"], "timeline": timeline}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", help="the agency's site, e.g. https://springfield.example.gov")
    parser.add_argument("--file", type=Path, required=True, help="the document to upload")
    parser.add_argument("--connect", default="", help="host:port to send the calls to")
    args = parser.parse_args(argv)
    token = os.environ.get("API_TOKEN", "")
    if not token:
        print("Set API_TOKEN to a token from Your account → API tokens.", file=sys.stderr)
        return 2
    try:
        walk(Api(args.site, token, args.connect), args.file)
    except (ApiError, OSError) as error:
        print(f"failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
