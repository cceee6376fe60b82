"""Configuration: frozen, validated dataclasses loaded from TOML.

Every problem is reported as ``file:key: what is wrong``; all problems of a file are collected
before :class:`ConfigError` is raised, so an administrator fixes them in one pass.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .eap.identity import OUTER_IDENTITY_POLICIES
from .ike.proposals import ProposalError, parse_esp_proposal, parse_ike_proposal
from .ike.proposals import EspProposalSpec, IkeProposalSpec
from .backends.ldap.config import parse_ldap_section
from .backends.radius.config import parse_radius
from .backends.sim.config import parse_sim_section
from .hardening_config import parse_hardening_section
from .ops_config import (
    parse_control_section, parse_logging_section, parse_metrics_section,
)

DEFAULT_IKE_PROPOSALS = (
    "aes256gcm16-aes128gcm16-prfsha384-prfsha256-ecp384-ecp256-curve25519-modp3072-modp2048",
    "chacha20poly1305-prfsha256-prfsha384-curve25519-ecp256-ecp384-modp2048",
    "aes256-aes192-aes128-sha384-sha256-sha512-sha1-modp2048-modp3072-ecp256-ecp384-ecp521"
    "-curve25519",
)
DEFAULT_ESP_PROPOSALS = (
    "aes256gcm16-aes128gcm16-chacha20poly1305",
    "aes256-aes192-aes128-sha256-sha384-sha512-sha1",
)
KNOWN_AUTH = ("eap", "psk")
# RFC 5998 EAP-only per connection: "never" (always CERT + AUTH), "allow" (EAP-only when the
# initiator asks with N(EAP_ONLY_AUTHENTICATION)), "require" (only EAP-only; no certificate).
EAP_ONLY_MODES = ("never", "allow", "require")


class ConfigError(Exception):
    """One or more configuration problems, each as ``file:key: message``."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ServerConfig:
    listen: tuple[str, ...] = ("0.0.0.0",)
    port: int = 500
    nat_port: int = 4500
    identity: str = "vpn.example.org"
    state_dir: Path = Path("state")
    log_level: str = "info"
    half_open_timeout: float = 30.0
    auth_timeout: float = 120.0
    eap_step_timeout: float = 60.0
    allow_modp1024: bool = False


@dataclass(frozen=True)
class CertificateConfig:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    key_type: str = "rsa"
    generate: bool = True


@dataclass(frozen=True)
class ConnectionConfig:
    name: str
    auth: str = "eap"
    eap_methods: tuple[str, ...] = ("mschapv2",)
    remote_id: str = "%any"
    local_id: str = ""
    psk: str | None = None
    pool: ipaddress.IPv4Network | None = None
    dns: tuple[str, ...] = ()
    local_ts: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
        ipaddress.ip_network("0.0.0.0/0"),
    )
    eap_identity_round: bool = True
    # Which PasswordVerifier checks cleartext passwords (GTC, TTLS-PAP): "local" (users
    # table) or a backend section such as "ldap".
    password_backend: str = "local"
    eap_only: str = "never"  # one of EAP_ONLY_MODES
    fragmentation: bool = True  # false: never send RFC 7383 fragments (clients that break)
    # Who may log in here (ikeeap.eap.identity): the identity EAP proved must match one of
    # eap_id (exact, wildcard, "group:NAME"; empty: anyone), and a tunnelled method's outer
    # identity must satisfy outer_identity.
    eap_id: tuple[str, ...] = ()
    outer_identity: str = "anonymous-or-match"


# Top-level tables owned by backends: name -> parser(reader, table) returning a frozen config.
# Each backend keeps its own config module; register it here with one line.
SectionParser = Callable[["ConfigReader", dict], Any]
SECTION_PARSERS: dict[str, SectionParser] = {}
SECTION_PARSERS["ldap"] = parse_ldap_section
SECTION_PARSERS["radius"] = parse_radius
SECTION_PARSERS["sim"] = parse_sim_section
SECTION_PARSERS["hardening"] = parse_hardening_section
SECTION_PARSERS["control"] = parse_control_section
SECTION_PARSERS["logging"] = parse_logging_section
SECTION_PARSERS["metrics"] = parse_metrics_section


@dataclass(frozen=True)
class Config:
    path: Path
    server: ServerConfig
    certificates: CertificateConfig | None
    ike_proposals: tuple[IkeProposalSpec, ...]
    esp_proposals: tuple[EspProposalSpec, ...]
    connections: tuple[ConnectionConfig, ...]
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    plugin_dirs: tuple[Path, ...] = ()
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)  # backend configs by table name


class ConfigReader:
    """Collects problems while reading typed values out of nested TOML tables."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.path}:{key}: {message}")

    def get(self, table: dict, prefix: str, key: str, kind: type | tuple, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problem(f"{prefix}{key}", f"expected {names}, got {type(value).__name__}")
            return default
        return value

    def unknown_keys(self, table: dict, prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                self.problem(f"{prefix}{key}", "unknown key")

    def secret(self, table: dict, prefix: str, key: str) -> str | None:
        """A secret given inline, as ``key_file`` or as ``key_env`` (kept out of config files)."""
        if key in table:
            return self.get(table, prefix, key, str, None)
        if f"{key}_file" in table:
            name = self.get(table, prefix, f"{key}_file", str, "")
            try:
                return (self.path.parent / name).read_text().strip()
            except OSError as exc:
                self.problem(f"{prefix}{key}_file", f"cannot read: {exc.strerror}")
        if f"{key}_env" in table:
            name = self.get(table, prefix, f"{key}_env", str, "")
            if name not in os.environ:
                self.problem(f"{prefix}{key}_env", f"environment variable {name} is not set")
            return os.environ.get(name)
        return None


def _read_server(r: ConfigReader, table: dict) -> ServerConfig:
    p = "server."
    d = ServerConfig()
    r.unknown_keys(table, p, set(ServerConfig.__dataclass_fields__))
    listen = r.get(table, p, "listen", list, list(d.listen))
    for addr in listen:
        try:
            ipaddress.ip_address(addr)
        except ValueError:
            r.problem(f"{p}listen", f"{addr!r} is not an IP address")
    port = r.get(table, p, "port", int, d.port)
    nat_port = r.get(table, p, "nat_port", int, d.nat_port)
    for key, value in (("port", port), ("nat_port", nat_port)):
        if not 0 <= value <= 65535:
            r.problem(p + key, "must be 0..65535")
    level = r.get(table, p, "log_level", str, d.log_level)
    if level not in ("debug", "info", "warning", "error"):
        r.problem(f"{p}log_level", "must be debug, info, warning or error")
    state_dir = Path(r.get(table, p, "state_dir", str, str(d.state_dir)))
    if not state_dir.is_absolute():
        state_dir = (r.path.parent / state_dir).resolve()
    return ServerConfig(
        listen=tuple(listen), port=port, nat_port=nat_port,
        identity=r.get(table, p, "identity", str, d.identity), state_dir=state_dir,
        log_level=level,
        half_open_timeout=r.get(table, p, "half_open_timeout", float, d.half_open_timeout),
        auth_timeout=r.get(table, p, "auth_timeout", float, d.auth_timeout),
        eap_step_timeout=r.get(table, p, "eap_step_timeout", float, d.eap_step_timeout),
        allow_modp1024=r.get(table, p, "allow_modp1024", bool, d.allow_modp1024),
    )


def _read_certificates(r: ConfigReader, table: dict, state_dir: Path) -> CertificateConfig:
    p = "certificates."
    r.unknown_keys(table, p, set(CertificateConfig.__dataclass_fields__))

    def path(key: str, default: str) -> Path:
        value = Path(r.get(table, p, key, str, default))
        return value if value.is_absolute() else state_dir / value

    key_type = r.get(table, p, "key_type", str, "rsa")
    if key_type not in ("rsa", "ecdsa"):
        r.problem(f"{p}key_type", "must be rsa or ecdsa")
    return CertificateConfig(
        ca_cert=path("ca_cert", "ca.pem"), server_cert=path("server_cert", "server.pem"),
        server_key=path("server_key", "server.key"), key_type=key_type,
        generate=r.get(table, p, "generate", bool, True),
    )


def _read_proposals(r: ConfigReader, table: dict, allow_modp1024: bool):
    p = "proposals."
    r.unknown_keys(table, p, {"ike", "esp"})
    ike, esp = [], []
    for i, text in enumerate(r.get(table, p, "ike", list, list(DEFAULT_IKE_PROPOSALS))):
        try:
            ike.append(parse_ike_proposal(str(text), allow_modp1024=allow_modp1024))
        except ProposalError as exc:
            r.problem(f"{p}ike[{i}]", str(exc))
    for i, text in enumerate(r.get(table, p, "esp", list, list(DEFAULT_ESP_PROPOSALS))):
        try:
            esp.append(parse_esp_proposal(str(text)))
        except ProposalError as exc:
            r.problem(f"{p}esp[{i}]", str(exc))
    return tuple(ike), tuple(esp)


def _read_connection(r: ConfigReader, i: int, table: dict, known_methods: set[str] | None):
    p = f"connections[{i}]."
    allowed = set(ConnectionConfig.__dataclass_fields__) | {"psk_file", "psk_env"}
    r.unknown_keys(table, p, allowed)
    name = r.get(table, p, "name", str, f"connection{i}")
    auth = r.get(table, p, "auth", str, "eap")
    if auth not in KNOWN_AUTH:
        r.problem(f"{p}auth", f"must be one of {', '.join(KNOWN_AUTH)}")
    methods = tuple(r.get(table, p, "eap_methods", list, ["mschapv2"]))
    if known_methods is not None:
        for m in methods:
            if m not in known_methods:
                r.problem(f"{p}eap_methods", f"unknown EAP method {m!r}")
    psk = r.secret(table, p, "psk")
    if auth == "psk" and not psk:
        r.problem(f"{p}psk", "a psk connection needs psk, psk_file or psk_env")
    pool = None
    if "pool" in table:
        try:
            pool = ipaddress.IPv4Network(r.get(table, p, "pool", str, ""), strict=False)
        except ValueError as exc:
            r.problem(f"{p}pool", str(exc))
    local_ts = []
    for text in r.get(table, p, "local_ts", list, ["0.0.0.0/0"]):
        try:
            local_ts.append(ipaddress.ip_network(str(text), strict=False))
        except ValueError as exc:
            r.problem(f"{p}local_ts", str(exc))
    return ConnectionConfig(
        name=name, auth=auth, eap_methods=methods,
        remote_id=r.get(table, p, "remote_id", str, "%any"),
        local_id=r.get(table, p, "local_id", str, ""), psk=psk, pool=pool,
        dns=tuple(r.get(table, p, "dns", list, [])), local_ts=tuple(local_ts),
        eap_identity_round=r.get(table, p, "eap_identity_round", bool, True),
        password_backend=r.get(table, p, "password_backend", str, "local"),
        eap_only=_read_eap_only(r, p, table, auth),
        fragmentation=r.get(table, p, "fragmentation", bool, True),
        eap_id=_read_eap_id(r, p, table),
        outer_identity=_read_choice(r, p, table, "outer_identity", OUTER_IDENTITY_POLICIES),
    )


def _read_eap_id(r: ConfigReader, p: str, table: dict) -> tuple[str, ...]:
    value = table.get("eap_id", [])
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, list) or not all(isinstance(x, str) and x for x in patterns):
        r.problem(f"{p}eap_id", "must be an identity pattern or a list of them")
        return ()
    return tuple(patterns)


def _read_choice(r: ConfigReader, p: str, table: dict, key: str,
                 choices: tuple[str, ...]) -> str:
    value = r.get(table, p, key, str, choices[0])
    if value not in choices:
        r.problem(f"{p}{key}", f"must be one of {', '.join(choices)}")
        return choices[0]
    return value


def _read_eap_only(r: ConfigReader, p: str, table: dict, auth: str) -> str:
    mode = r.get(table, p, "eap_only", str, "never")
    if mode not in EAP_ONLY_MODES:
        r.problem(f"{p}eap_only", f"must be one of {', '.join(EAP_ONLY_MODES)}")
        return "never"
    if mode != "never" and auth != "eap":
        r.problem(f"{p}eap_only", "only an EAP connection can be EAP-only")
    return mode


def _read_users(r: ConfigReader, doc: dict) -> dict[str, dict[str, str]]:
    users: dict[str, dict[str, str]] = {}
    if "users_file" in doc:
        name = r.get(doc, "", "users_file", str, "")
        try:
            users.update(tomllib.loads((r.path.parent / name).read_text()).get("users", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            r.problem("users_file", f"cannot read {name}: {exc}")
    users.update(r.get(doc, "", "users", dict, {}))
    for user, entry in users.items():
        if not isinstance(entry, dict) or not ({"password", "nt_hash"} & set(entry)):
            r.problem(f"users.{user}", "needs password or nt_hash")
        elif "nt_hash" in entry and len(str(entry["nt_hash"])) != 32:
            r.problem(f"users.{user}.nt_hash", "must be 32 hex digits")
    return users


def load_config(path: str | Path, known_methods: set[str] | None = None) -> Config:
    """Read and validate a config file; raises ConfigError listing every problem."""
    config, problems = read_config(path, known_methods)
    if problems or config is None:
        raise ConfigError(problems)
    return config


def read_config(path: str | Path, known_methods: set[str] | None = None
                ) -> tuple[Config | None, list[str]]:
    """The config as far as it could be read, and every problem found (None: the file could
    not be read or parsed at all), so check-config can go on and report the rest."""
    path = Path(path).resolve()
    r = ConfigReader(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        return None, [f"{path}: cannot read: {exc.strerror}"]
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{path}: {exc}"]
    r.unknown_keys(doc, "", {"server", "certificates", "proposals", "connections", "users",
                             "users_file", "plugins", "methods", *SECTION_PARSERS})
    server = _read_server(r, r.get(doc, "", "server", dict, {}))
    certs = None
    if "certificates" in doc:
        certs = _read_certificates(r, r.get(doc, "", "certificates", dict, {}), server.state_dir)
    ike, esp = _read_proposals(r, r.get(doc, "", "proposals", dict, {}), server.allow_modp1024)
    connections = tuple(
        _read_connection(r, i, table, known_methods)
        for i, table in enumerate(r.get(doc, "", "connections", list, []))
        if isinstance(table, dict)
    )
    if not connections:
        r.problem("connections", "at least one [[connections]] entry is needed")
    # An EAP-only ("require") connection authenticates the server by its mutual EAP method.
    if certs is None and any(c.auth == "eap" and c.eap_only != "require" for c in connections):
        r.problem("certificates", "EAP connections need a server certificate"
                  " (or eap_only = \"require\" with mutual methods)")
    plugins = r.get(doc, "", "plugins", dict, {})
    plugin_dirs = tuple((path.parent / d).resolve() for d in r.get(plugins, "plugins.", "dirs", list, []))
    users = _read_users(r, doc)
    sections = {name: parse(r, r.get(doc, "", name, dict, {}))
                for name, parse in SECTION_PARSERS.items() if name in doc}
    for i, conn in enumerate(connections):  # a backend named by a connection must exist
        if conn.password_backend != "local" and sections.get(conn.password_backend) is None:
            r.problem(f"connections[{i}].password_backend",
                      f"{conn.password_backend!r} needs a [{conn.password_backend}] table")
    config = Config(
        path=path, server=server, certificates=certs, ike_proposals=ike, esp_proposals=esp,
        connections=connections, users=users,
        plugin_dirs=plugin_dirs, methods=r.get(doc, "", "methods", dict, {}),
        sections=sections,
    )
    return config, r.problems
