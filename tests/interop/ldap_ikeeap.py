"""``ikeeap serve`` configured with an ``[ldap]`` password backend, for interop tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .charon import Topology
from .ikeeap_server import POOL, SERVER_ID, ServedIkeeap, _table
from .slapd import GROUP_DN, PEOPLE, SERVICE_DN, SERVICE_PASSWORD, Slapd

LOCAL_USERS = {"carol": "carol-local-pw"}
LOCAL_ID_PATTERN = "*@local.test"  # IDi of logins checked against the local users table
CLOSED_LDAP_URL = "ldap://127.0.0.1:38988"  # nothing listens: the failover path


def ldap_table(slapd: Slapd, directory: Path, **overrides: Any) -> dict[str, Any]:
    secret = directory / "ldap.secret"
    secret.write_text(SERVICE_PASSWORD + "\n")
    table: dict[str, Any] = {
        "servers": [CLOSED_LDAP_URL, slapd.url],
        "base_dn": PEOPLE,
        "filter": "(&(objectClass=inetOrgPerson)(uid={user}))",
        "bind_dn": SERVICE_DN,
        "bind_password_file": str(secret),
        "tls": "starttls",
        "ca_file": str(slapd.ca_path),
        "connect_timeout": 1,
        "response_timeout": 2,
        "timeout": 3,
        "group_dn": GROUP_DN,
    }
    table.update(overrides)
    return table


def write_config(directory: Path, listen: str, ldap: dict[str, Any],
                 eap_methods: tuple[str, ...] = ("gtc", "ttls"),
                 ttls: dict[str, Any] | None = None) -> Path:
    server = {"listen": [listen], "identity": SERVER_ID, "state_dir": str(directory / "state"),
              "log_level": "debug", "eap_step_timeout": 10}
    parts = [
        _table("server", server),
        _table("certificates", {"key_type": "rsa"}),
        _table("connections", {"name": "rw-local", "auth": "eap", "remote_id": LOCAL_ID_PATTERN,
                               "eap_methods": ["ttls", "md5", "gtc"], "pool": POOL},
               array=True),
        _table("connections", {"name": "rw-ldap", "auth": "eap", "password_backend": "ldap",
                               "eap_methods": list(eap_methods), "pool": POOL}, array=True),
        _table("ldap", ldap),
        _table("methods.ttls", ttls or {"inner_methods": ["gtc", "md5"]}),
        "[users]\n" + "".join(f'{u} = {{ password = "{p}" }}\n' for u, p in LOCAL_USERS.items()),
    ]
    path = directory / "ikeeap.toml"
    path.write_text("\n".join(parts))
    return path


class LdapIkeeap(ServedIkeeap):
    """``ikeeap serve`` in the responder namespace, slapd beside it on its loopback."""

    def __init__(self, spawn: Any, topology: Topology, directory: Path, slapd: Slapd,
                 **config: Any) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ldap = ldap_table(slapd, directory, **config.pop("ldap", {}))
        config_path = write_config(directory, topology.responder_addr, ldap, **config)
        super().__init__(spawn, topology, directory, config_path)
