"""Backend providers built from the configuration, and per-connection provider selection.

``backend_providers(config, blocking_pools)`` returns the named extras that
``runtime.build_providers`` puts into ``Providers.extra``:

- ``"verifier:<backend>"``: a PasswordVerifier per backend section (``"verifier:ldap"``);
- ``"tls_server"``: the IKE server certificate files, the default TLS identity of EAP-TTLS;
- ``"pwd_executor"``: with a server layer's pools and EAP-pwd in use, the ``run_blocking`` of
  a small "pwd" pool for its pure-Python elliptic-curve maths (kept off the event loop).

``connection_providers(providers, conn)`` picks the verifier a connection names with
``password_backend``.  A directory verifies passwords but reveals none, so for a non-local
backend the cleartext/NT-hash lookup is removed: MD5 and MSCHAPv2 then fail cleanly instead
of silently checking the local users table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ikeeap.eap.credentials import Providers

if TYPE_CHECKING:
    from ikeeap.config import Config, ConnectionConfig

VERIFIER_PREFIX = "verifier:"
PWD_EXECUTOR = "pwd_executor"  # ikeeap.eap.methods.pwd.server.EXECUTOR
# CPU-bound and GIL-bound: more threads add no throughput, only keep the loop responsive;
# beyond threads + pending a login fails at once (PoolBusy) instead of queueing for seconds.
PWD_THREADS, PWD_MAX_PENDING = 2, 64
RunBlocking = Callable[..., Awaitable[Any]]
# (pool name, threads, max pending) -> run_blocking; the server layer makes Twisted pools
BlockingPools = Callable[[str, int, int], RunBlocking]


class BackendSetupError(ValueError):
    """A configured backend cannot be built (e.g. no thread pool for blocking calls)."""


def backend_providers(config: Config, blocking_pools: BlockingPools | None) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    certs = config.certificates
    if certs is not None:
        from ikeeap.eap.tls.context import TlsServerFiles

        extras["tls_server"] = TlsServerFiles(certs.server_cert, certs.server_key,
                                              certs.ca_cert)
    ldap = config.sections.get("ldap")
    if ldap is not None:
        from ikeeap.backends.ldap import LdapPasswordVerifier

        run_blocking = (blocking_pools("ldap", ldap.threads, ldap.max_pending)
                        if blocking_pools is not None else _no_thread_pool)
        extras[VERIFIER_PREFIX + "ldap"] = LdapPasswordVerifier(ldap, run_blocking)
    sim = config.sections.get("sim")
    if sim is not None:  # EAP-SIM: triplet source, sqlite identity store, policy
        from ikeeap.backends.sim import sim_providers

        sim_blocking = blocking_pools("sim", sim.threads, 64) if blocking_pools else None
        extras.update(sim_providers(sim, config.server.state_dir, sim_blocking))
    if blocking_pools is not None and _uses_pwd(config):  # else EAP-pwd runs inline
        extras[PWD_EXECUTOR] = blocking_pools("pwd", PWD_THREADS, PWD_MAX_PENDING)
    return extras


def _uses_pwd(config: Config) -> bool:
    return "pwd" in config.methods or any("pwd" in conn.eap_methods
                                          for conn in config.connections)


async def _no_thread_pool(fn: Callable[..., Any], *args: Any) -> Any:
    """Used when no server layer gave a pool (check-config): fail closed, never block."""
    raise BackendSetupError("no thread pool for blocking backend calls in this process")


def connection_providers(providers: Providers, conn: ConnectionConfig) -> Providers:
    """The providers a connection's methods use (its ``password_backend``)."""
    backend = getattr(conn, "password_backend", "local")
    if backend == "local":
        return providers
    verifier = providers.get(VERIFIER_PREFIX + backend)
    if verifier is None:
        raise BackendSetupError(f"connection {conn.name!r}: no password backend {backend!r}")
    return replace(providers, verifier=verifier, passwords=None)
