"""A real OpenLDAP server (Debian's /usr/sbin/slapd) for directory-login tests.

`start_slapd(workdir)` writes a slapd.conf with an mdb database under `workdir`, starts
slapd in the foreground on ldap://127.0.0.1:<free port>/, seeds it and returns a
`SlapdServer` (also a context manager; `.stop()` ends the process).

Directory (suffix dc=example,dc=org):

    cn=admin,dc=example,dc=org          rootdn (root_password)
    cn=portal-bind,dc=example,dc=org    service account the portal binds as (bind_password)
    ou=people,dc=example,dc=org         uid=alice, uid=bob, uid=carol (inetOrgPerson)
    ou=groups,dc=example,dc=org         cn=records-admins {alice}, cn=records-staff {bob}

Access: authenticated users read everything but passwords; a user may change their own
password; anonymous clients may only bind (no search, no read). Passwords are stored as
{SSHA} hashes. Every change method works over LDAP as the rootdn.

groupOfNames requires at least one member: an empty group holds the empty DN (`member: `)
as a placeholder, which matches no user.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.idp._process import (
    ServerProcess,
    ServerStartError,
    ServiceUnavailable,
    free_port,
    port_in_use_failure,
    require_executable,
)

SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
SCHEMAS = ("core", "cosine", "inetorgperson", "nis")
EMPTY_GROUP_PLACEHOLDER = ""

BASE_DN = "dc=example,dc=org"
ROOT_PASSWORD = "root-secret"
BIND_PASSWORD = "bind-secret"

# uid -> (password, mail, cn, groups)
SEED_USERS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "alice": ("alice-password", "alice@example.org", "Alice Admin", ("records-admins",)),
    "bob": ("bob-password", "bob@example.org", "Bob Staff", ("records-staff",)),
    "carol": ("carol-password", "carol@example.org", "Carol Citizen", ()),
}
SEED_GROUPS = ("records-admins", "records-staff")


def ssha(password: str, salt: bytes | None = None) -> str:
    """An OpenLDAP {SSHA} userPassword value: base64(sha1(password + salt) + salt)."""
    salt = os.urandom(8) if salt is None else salt
    digest = hashlib.sha1(password.encode() + salt, usedforsecurity=False).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _ldap():
    try:
        import ldap
        import ldap.dn
        import ldap.filter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ServiceUnavailable(f"python-ldap is not importable: {exc}") from exc
    return ldap


def slapd_unavailable_reason() -> str | None:
    """Why slapd cannot be started here, or None when it can."""
    try:
        require_executable("slapd", "/usr/sbin/slapd")
        _ldap()
    except ServiceUnavailable as exc:
        return f"{exc} (install Debian's `slapd` package and python-ldap)"
    for schema in SCHEMAS:
        if not (SCHEMA_DIR / f"{schema}.schema").exists():
            return f"{SCHEMA_DIR / schema}.schema is missing (install Debian's `slapd` package)"
    if not (MODULE_DIR / "back_mdb.so").exists():
        return f"{MODULE_DIR}/back_mdb.so is missing (install Debian's `slapd` package)"
    return None


def _slapd_conf(workdir: Path) -> str:
    includes = "\n".join(f"include {SCHEMA_DIR / name}.schema" for name in SCHEMAS)
    return f"""\
{includes}

pidfile {workdir / "slapd.pid"}
argsfile {workdir / "slapd.args"}
modulepath {MODULE_DIR}
moduleload back_mdb
loglevel none
sizelimit unlimited

database mdb
maxsize 67108864
suffix "{BASE_DN}"
rootdn "cn=admin,{BASE_DN}"
rootpw {ssha(ROOT_PASSWORD)}
directory {workdir / "data"}
index objectClass eq
index uid,mail,cn eq
index member eq

access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by users read
    by anonymous auth
    by * none
"""


@dataclass
class SlapdServer:
    uri: str
    workdir: Path
    process: ServerProcess | None = None
    base_dn: str = BASE_DN
    people_dn: str = f"ou=people,{BASE_DN}"
    groups_dn: str = f"ou=groups,{BASE_DN}"
    bind_dn: str = f"cn=portal-bind,{BASE_DN}"
    bind_password: str = BIND_PASSWORD
    root_dn: str = f"cn=admin,{BASE_DN}"
    root_password: str = ROOT_PASSWORD
    users: dict[str, dict] = field(default_factory=dict)
    _seeded_users: dict[str, dict] = field(default_factory=dict, repr=False)

    # ---- naming -------------------------------------------------------------------------
    def user_dn(self, uid: str) -> str:
        ldap_dn = _ldap().dn
        return f"uid={ldap_dn.escape_dn_chars(uid)},{self.people_dn}"

    def group_dn(self, cn: str) -> str:
        ldap_dn = _ldap().dn
        return f"cn={ldap_dn.escape_dn_chars(cn)},{self.groups_dn}"

    # ---- connections --------------------------------------------------------------------
    def connect(self, who: str | None = None, password: str | None = None):
        """A python-ldap connection bound as `who` (default: the rootdn)."""
        ldap = _ldap()
        conn = ldap.initialize(self.uri)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        if who is None:
            who, password = self.root_dn, self.root_password
        conn.simple_bind_s(who, password or "")
        return conn

    def _admin(self):
        return self.connect()

    # ---- changes ------------------------------------------------------------------------
    def add_user(
        self,
        uid: str,
        *,
        password: str,
        mail: str,
        cn: str,
        groups: Iterable[str] = (),
        sn: str | None = None,
    ) -> str:
        """Add an inetOrgPerson under ou=people (and to existing groups); returns its DN."""
        dn = self.user_dn(uid)
        surname = sn or (cn.split()[-1] if cn.split() else uid)
        attrs = [
            ("objectClass", [b"inetOrgPerson", b"organizationalPerson", b"person", b"top"]),
            ("uid", [uid.encode()]),
            ("cn", [cn.encode()]),
            ("sn", [surname.encode()]),
            ("mail", [mail.encode()]),
            ("userPassword", [ssha(password).encode()]),
        ]
        conn = self._admin()
        try:
            conn.add_s(dn, attrs)
        finally:
            conn.unbind_s()
        self.users[uid] = {"password": password, "mail": mail, "cn": cn, "dn": dn}
        for group in groups:
            self.add_to_group(uid, group)
        return dn

    def delete_user(self, uid: str) -> None:
        """Remove the user's entry and every group membership it had."""
        dn = self.user_dn(uid)
        ldap = _ldap()
        conn = self._admin()
        try:
            found = conn.search_s(
                self.groups_dn,
                ldap.SCOPE_ONELEVEL,
                f"(member={ldap.filter.escape_filter_chars(dn)})",
                ["cn"],
            )
            for _group_dn, attrs in found:
                self._remove_member(conn, attrs["cn"][0].decode(), dn)
            conn.delete_s(dn)
        finally:
            conn.unbind_s()
        self.users.pop(uid, None)

    def set_password(self, uid: str, password: str) -> None:
        ldap = _ldap()
        conn = self._admin()
        try:
            conn.modify_s(
                self.user_dn(uid), [(ldap.MOD_REPLACE, "userPassword", [ssha(password).encode()])]
            )
        finally:
            conn.unbind_s()
        if uid in self.users:
            self.users[uid]["password"] = password

    def create_group(self, cn: str, members: Iterable[str] = ()) -> str:
        """Add a groupOfNames under ou=groups with the given member uids; returns its DN."""
        member_dns = [self.user_dn(uid).encode() for uid in members]
        dn = self.group_dn(cn)
        conn = self._admin()
        try:
            conn.add_s(
                dn,
                [
                    ("objectClass", [b"groupOfNames", b"top"]),
                    ("cn", [cn.encode()]),
                    ("member", member_dns or [EMPTY_GROUP_PLACEHOLDER.encode()]),
                ],
            )
        finally:
            conn.unbind_s()
        return dn

    def group_members(self, group_cn: str) -> list[str]:
        """Member DNs of a group (without the empty-group placeholder)."""
        ldap = _ldap()
        conn = self._admin()
        try:
            [(_dn, attrs)] = conn.search_s(
                self.group_dn(group_cn), ldap.SCOPE_BASE, "(objectClass=*)", ["member"]
            )
        finally:
            conn.unbind_s()
        return [m.decode() for m in attrs.get("member", []) if m.decode()]

    def add_to_group(self, uid: str, group_cn: str) -> None:
        ldap = _ldap()
        member = self.user_dn(uid)
        current = self.group_members(group_cn)
        if member.lower() in (m.lower() for m in current):
            return
        changes = [(ldap.MOD_ADD, "member", [member.encode()])]
        if not current:
            changes.append((ldap.MOD_DELETE, "member", [EMPTY_GROUP_PLACEHOLDER.encode()]))
        conn = self._admin()
        try:
            conn.modify_s(self.group_dn(group_cn), changes)
        finally:
            conn.unbind_s()

    def remove_from_group(self, uid: str, group_cn: str) -> None:
        conn = self._admin()
        try:
            self._remove_member(conn, group_cn, self.user_dn(uid))
        finally:
            conn.unbind_s()

    def _remove_member(self, conn, group_cn: str, member: str) -> None:
        ldap = _ldap()
        [(_dn, attrs)] = conn.search_s(
            self.group_dn(group_cn), ldap.SCOPE_BASE, "(objectClass=*)", ["member"]
        )
        remaining = [m for m in attrs.get("member", []) if m.decode().lower() != member.lower()]
        if len(remaining) == len(attrs.get("member", [])):
            return
        conn.modify_s(
            self.group_dn(group_cn),
            [(ldap.MOD_REPLACE, "member", remaining or [EMPTY_GROUP_PLACEHOLDER.encode()])],
        )

    # ---- seeding and reset --------------------------------------------------------------
    def seed(self) -> None:
        """Create the base entries, the service account, the seeded users and groups."""
        conn = self._admin()
        try:
            conn.add_s(
                self.base_dn,
                [
                    ("objectClass", [b"dcObject", b"organization", b"top"]),
                    ("dc", [b"example"]),
                    ("o", [b"Example Records Portal Test"]),
                ],
            )
            for dn, ou in ((self.people_dn, b"people"), (self.groups_dn, b"groups")):
                conn.add_s(dn, [("objectClass", [b"organizationalUnit", b"top"]), ("ou", [ou])])
            conn.add_s(
                self.bind_dn,
                [
                    ("objectClass", [b"organizationalRole", b"simpleSecurityObject", b"top"]),
                    ("cn", [b"portal-bind"]),
                    ("description", [b"Service account the portal binds as"]),
                    ("userPassword", [ssha(self.bind_password).encode()]),
                ],
            )
        finally:
            conn.unbind_s()
        self._seed_people()
        self._seeded_users = copy.deepcopy(self.users)

    def _seed_people(self) -> None:
        for uid, (password, mail, cn, _groups) in SEED_USERS.items():
            self.add_user(uid, password=password, mail=mail, cn=cn)
        for group in SEED_GROUPS:
            members = [uid for uid, spec in SEED_USERS.items() if group in spec[3]]
            self.create_group(group, members)

    def reset(self) -> None:
        """Put the directory back to its seeded state: drop every entry under ou=people and
        ou=groups, re-create the seeded users and groups, reset the service account."""
        ldap = _ldap()
        conn = self._admin()
        try:
            for parent in (self.people_dn, self.groups_dn):
                found = conn.search_s(parent, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"])
                children = [dn for dn, _attrs in found if dn and dn.lower() != parent.lower()]
                # Deepest entries first, so no delete hits a non-leaf.
                for dn in sorted(children, key=lambda d: d.count(","), reverse=True):
                    conn.delete_s(dn)
            conn.modify_s(
                self.bind_dn,
                [(ldap.MOD_REPLACE, "userPassword", [ssha(BIND_PASSWORD).encode()])],
            )
        finally:
            conn.unbind_s()
        self.bind_password = BIND_PASSWORD
        self.users = {}
        self._seed_people()

    # ---- lifecycle ----------------------------------------------------------------------
    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> SlapdServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_slapd(workdir: Path, *, attempts: int = 3) -> SlapdServer:
    """Start a seeded slapd under `workdir`. Raises ServiceUnavailable when slapd or
    python-ldap is missing, ServerStartError when it does not come up."""
    reason = slapd_unavailable_reason()
    if reason:
        raise ServiceUnavailable(reason)
    slapd_bin = require_executable("slapd", "/usr/sbin/slapd")
    workdir = Path(workdir)
    for attempt in range(attempts):
        rundir = workdir / f"slapd-{attempt}"
        (rundir / "data").mkdir(parents=True)
        conf = rundir / "slapd.conf"
        conf.write_text(_slapd_conf(rundir))
        uri = f"ldap://127.0.0.1:{free_port()}/"
        process = ServerProcess("slapd", [slapd_bin, "-d", "0", "-f", str(conf), "-h", uri], rundir)
        server = SlapdServer(uri=uri, workdir=rundir, process=process)
        try:
            process.wait_until(lambda s=server: s.connect().unbind_s() is None, what="LDAP binds")
        except ServerStartError as exc:
            process.stop()
            if port_in_use_failure(exc) and attempt + 1 < attempts:
                continue
            raise
        try:
            server.seed()
        except BaseException:
            server.stop()
            raise
        return server
    raise AssertionError("unreachable")  # pragma: no cover
