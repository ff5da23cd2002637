"""Personal API tokens as a DRF authentication class: ``Authorization: Bearer rp_<key>_<secret>``.

Checked on every call, from the database, with no cache, so a revocation, an expiry, a
deactivated account or a removed membership stops the token at the very next call:
- the row is found by its public key in the host's RLS context (a token bound to another
  agency is invisible here, so it is refused exactly like an unknown one);
- the secret matches the stored keyed hash (constant-time);
- it is not revoked and not expired; its person is active;
- a token bound to an agency needs its person's active membership there.
Anything else is a 401 with one plain message (which check failed is not said)."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts import policy
from api.tokens import secrets
from api.tokens.access import token_by_text
from api.tokens.services import token_used

KEYWORD = b"bearer"


def _refused() -> AuthenticationFailed:
    return AuthenticationFailed(gettext("This API token is not valid here."))


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None  # no token: the session may authenticate
        if len(header) != 2:
            raise _refused()
        try:
            text = header[1].decode("ascii")
        except UnicodeError as error:
            raise _refused() from error
        agency = getattr(request, "agency", None)
        if agency is None:
            raise _refused()  # the API answers on an agency's site only
        token, parsed = token_by_text(text)
        if token is None or parsed is None or not secrets.matches(parsed, token.digest):
            raise _refused()
        user = token.user
        if not token.is_live() or not user.is_active:
            raise _refused()
        bound = token.agency_id is not None
        if bound and (token.agency_id != agency.pk or policy.membership_for(user, agency) is None):
            raise _refused()
        token_used(token)
        # The page-view audit event of this call names the token (accounts.middleware).
        request._request.audit_page_details = {"api_token": token.key}
        return user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
