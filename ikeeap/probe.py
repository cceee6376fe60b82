"""``check-config --probe``: ask each configured server whether it answers, one verdict each.

A command-line tool, not the server: plain blocking sockets and ldap3 calls are fine here.
RADIUS servers get a Status-Server (RFC 5997; the reply is verified like any other), LDAP
servers a connection with the configured TLS and the service account's bind.
"""

from __future__ import annotations

import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any

from .backends.radius import codec
from .config import Config


@dataclass(frozen=True)
class ProbeResult:
    what: str  # "radius 127.0.0.1:1812"
    ok: bool
    detail: str

    def line(self) -> str:
        return f"probe {self.what}: {'OK' if self.ok else 'FAILED'} ({self.detail})"


def probe_all(config: Config) -> list[ProbeResult]:
    results = []
    radius: Any = config.sections.get("radius")
    for server in getattr(radius, "servers", ()):
        results.append(probe_radius(server))
    ldap: Any = config.sections.get("ldap")
    if ldap is not None:
        from .backends.ldap.directory import LdapDirectory

        directory = LdapDirectory(ldap)
        for address in ldap.servers:
            problem = directory.probe(address)
            results.append(ProbeResult(f"ldap {address.url}", not problem,
                                       problem or f"TLS {ldap.tls}, service bind accepted"))
    return results


def probe_radius(server: Any) -> ProbeResult:
    """One Status-Server with the server's own timeout and retries."""
    what = f"radius {server.label}"
    request = codec.status_server(server.secret, secrets.randbelow(256))
    raw = codec.encode_request(request)
    problem = "no answer"
    with socket.socket(socket.AF_INET6 if ":" in server.address else socket.AF_INET,
                       socket.SOCK_DGRAM) as sock:
        sock.settimeout(server.timeout)
        for _ in range(server.retries + 1):
            started = time.monotonic()
            try:
                sock.sendto(raw, (server.address, server.port))
                data = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError as exc:
                return ProbeResult(what, False, f"{type(exc).__name__}: {exc}")
            reply, problem = codec.check_reply(request, data)
            if reply is not None:
                ms = (time.monotonic() - started) * 1000
                return ProbeResult(what, True, f"Status-Server answered in {ms:.0f} ms")
            problem = f"reply dropped: {problem} (is the secret right?)"
    if problem == "no answer":
        problem = (f"no answer within {server.timeout:g} s x {server.retries + 1} (is it up, "
                   "and does it answer Status-Server? FreeRADIUS: status_server = yes)")
    return ProbeResult(what, False, problem)
