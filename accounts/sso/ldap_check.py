""" "Test these settings" for an agency's LDAP directory: each step an admin needs to see,
in order, with the directory's own words when a step fails. Signs nobody in."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import ldap
from ldap.filter import escape_filter_chars

from accounts.models import IdentityProvider, Role
from accounts.sso import config, endpoints
from accounts.sso.ldap import LDAP_TIMEOUT_SECONDS


@dataclass(frozen=True)
class Step:
    ok: bool
    text: str


def _describe(error: ldap.LDAPError) -> str:
    info = error.args[0] if error.args and isinstance(error.args[0], dict) else {}
    return str(info.get("desc") or type(error).__name__)


def run(provider: IdentityProvider, username: str, password: str = "") -> list[Step]:  # nosec B107  # empty: no password to try
    data = provider.settings
    steps: list[Step] = []
    try:
        # Checked again right before connecting (the saved row may predate the rules).
        endpoints.check_ldap_connection(data)
    except endpoints.UnsafeEndpoint as error:
        return [Step(False, f"The server address is refused: {error}")]
    connection = ldap.initialize(data["server_uri"], bytes_mode=False)
    connection.set_option(ldap.OPT_NETWORK_TIMEOUT, LDAP_TIMEOUT_SECONDS)
    connection.set_option(ldap.OPT_TIMEOUT, LDAP_TIMEOUT_SECONDS)
    connection.set_option(ldap.OPT_REFERRALS, 0)
    try:
        if data.get("start_tls"):
            connection.start_tls_s()
            steps.append(Step(True, "STARTTLS worked."))
        connection.simple_bind_s(data.get("bind_dn", ""), config.get_secret(provider))
        steps.append(Step(True, "The service account signed in to the directory."))
        search = data["user_filter"] % {"user": escape_filter_chars(username)}
        found = connection.search_s(
            data["user_search_base"], ldap.SCOPE_SUBTREE, search, ["*", "+"]
        )
        people = [(dn, attrs) for dn, attrs in found if dn]
        if len(people) != 1:
            steps.append(
                Step(False, f"The person filter found {len(people)} entries for {username!r}.")
            )
            return steps
        dn, _attrs = people[0]
        steps.append(Step(True, f"Found {dn}."))
        if password:
            person = ldap.initialize(data["server_uri"], bytes_mode=False)
            person.set_option(ldap.OPT_NETWORK_TIMEOUT, LDAP_TIMEOUT_SECONDS)
            try:
                if data.get("start_tls"):
                    person.start_tls_s()
                person.simple_bind_s(dn, password)
                steps.append(Step(True, "That password is right."))
            except ldap.INVALID_CREDENTIALS:
                steps.append(Step(False, "That password is wrong."))
            finally:
                person.unbind_s()
        if data.get("group_search_base"):
            groups = connection.search_s(
                data["group_search_base"],
                ldap.SCOPE_SUBTREE,
                f"(member={escape_filter_chars(dn)})",
                ["cn"],
            )
            group_dns = [g for g, _ in groups if g]
            steps.append(Step(True, f"Groups: {', '.join(group_dns) or 'none'}."))
            if config.manages_roles(provider):
                role = config.role_from_groups(provider, group_dns)
                steps.append(
                    Step(
                        role is not None,
                        f"Role here: {Role(role).label}."
                        if role
                        else "None of these groups is mapped to a role: sign-in would be refused.",
                    )
                )
    except ldap.LDAPError as error:
        steps.append(Step(False, f"The directory answered: {_describe(error)}."))
    except (KeyError, TypeError, ValueError):
        steps.append(Step(False, "The settings are incomplete or the person filter is invalid."))
    finally:
        with contextlib.suppress(ldap.LDAPError):
            connection.unbind_s()
    return steps
