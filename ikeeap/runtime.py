"""Builds the core's run-time objects from a Config: credentials, users, EAP methods.

The only place that reads key and certificate files, so the core stays free of file I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .backends.providers import BlockingPools, backend_providers, connection_providers
from .config import CertificateConfig, Config, ConnectionConfig
from .crypto.auth import Signer
from .crypto.certs import (
    cert_der, certreq_hash, generate_ca, generate_server_cert, load_certificate,
    load_private_key, save_pem,
)
from .eap.authenticator import EapAuthenticator
from .eap.credentials import LocalUserStore, Providers
from .eap.method import EapContext
from .eap.plugin_checks import check_config_methods
from .eap.registry import MethodRegistry
from .ike.settings import ResponderSettings, make_identity

log = logging.getLogger("ikeeap.config")


@dataclass(frozen=True)
class ServerCredentials:
    signer: Signer
    chain: tuple[bytes, ...]
    certreq: bytes
    ca_path: Path
    generated: bool


def ensure_certificates(certs: CertificateConfig, identity: str) -> ServerCredentials:
    """Load the server certificate and key, generating a CA and both on first start."""
    missing = [p for p in (certs.ca_cert, certs.server_cert, certs.server_key) if not p.exists()]
    generated = False
    if missing and certs.generate:
        certs.server_key.parent.mkdir(parents=True, exist_ok=True)
        ca = generate_ca(f"ikeeap CA for {identity}", certs.key_type)
        server = generate_server_cert(ca, identity, certs.key_type)
        save_pem(ca, certs.ca_cert, certs.ca_cert.with_suffix(".key"))
        save_pem(server, certs.server_cert, certs.server_key)
        generated = True
        log.info("generated a CA (%s) and a server certificate for %s", certs.ca_cert, identity)
    ca_cert = load_certificate(certs.ca_cert)
    server_cert = load_certificate(certs.server_cert)
    key = load_private_key(certs.server_key)
    return ServerCredentials(Signer(key), (cert_der(server_cert),), certreq_hash(ca_cert),
                             certs.ca_cert, generated)


def load_registry(config: Config | None = None) -> MethodRegistry:
    registry = MethodRegistry.discover()
    for directory in config.plugin_dirs if config else ():
        registry.load_plugins_dir(directory)
    return registry


class EapFactory:
    """Makes one EapAuthenticator per login, with the connection's methods in its order."""

    def __init__(self, config: Config, registry: MethodRegistry, providers: Providers):
        # Missing providers, rejected [methods.*] config: stop start-up naming the plugin.
        check_config_methods(registry, config, providers, connection_providers)
        self._providers = providers
        self._methods = {
            conn.name: [registry.factory_for(name, config.methods.get(name),
                                             connection_providers(providers, conn))
                        for name in conn.eap_methods]
            for conn in config.connections if conn.auth == "eap"
        }

    def __call__(self, conn: ConnectionConfig, peer_identity: str,
                 remote: tuple[str, int]) -> EapAuthenticator:
        context = EapContext(identity=peer_identity.encode(), peer=f"{remote[0]}:{remote[1]}",
                             providers=self._providers)
        return EapAuthenticator(self._methods[conn.name], context,
                                identity_round=conn.eap_identity_round,
                                outer_identity=conn.outer_identity)

    @property
    def providers(self) -> Providers:
        return self._providers

    def authenticator_for(self, conn_name: str, context: EapContext,
                          **options: Any) -> EapAuthenticator:
        """An authenticator with the methods of ``conn_name`` and explicit options (used by
        the RADIUS front, which imposes the first EAP identifier)."""
        return EapAuthenticator(self._methods[conn_name], context, **options)


def build_providers(config: Config, extra: dict[str, Any] | None = None,
                    blocking_pools: BlockingPools | None = None) -> Providers:
    """Credential providers from config; ``extra`` adds server-layer objects by name
    (e.g. the RADIUS client under "radius"), reachable as ``providers.get(name)``.
    ``blocking_pools`` (ikeeap.server.blocking.BlockingPools) runs backends' blocking calls
    (LDAP); without it such backends refuse every login (fine for check-config)."""
    store = LocalUserStore.from_config(config.users)
    backends = backend_providers(config, blocking_pools)
    return Providers(passwords=store, verifier=store, extra={**backends, **dict(extra or {})})


def build_settings(config: Config, registry: MethodRegistry | None = None,
                   credentials: ServerCredentials | None = None,
                   providers: Providers | None = None,
                   blocking_pools: BlockingPools | None = None,
                   extra_providers: dict[str, Any] | None = None) -> ResponderSettings:
    registry = registry or load_registry(config)
    if credentials is None and config.certificates is not None:
        credentials = ensure_certificates(config.certificates, config.server.identity)
    providers = providers or build_providers(config, extra_providers,
                                             blocking_pools=blocking_pools)
    server = config.server
    return ResponderSettings(
        identity=make_identity(server.identity),
        ike_proposals=config.ike_proposals, esp_proposals=config.esp_proposals,
        connections=config.connections, eap_factory=EapFactory(config, registry, providers),
        signer=credentials.signer if credentials else None,
        cert_chain=credentials.chain if credentials else (),
        certreq=credentials.certreq if credentials else b"",
        nat_port=server.nat_port, half_open_timeout=server.half_open_timeout,
        auth_timeout=server.auth_timeout, eap_step_timeout=server.eap_step_timeout,
        **_hardening(config),
    )


def _hardening(config: Config) -> dict[str, Any]:
    """The [hardening] table, when the config has one (else the core's defaults)."""
    found = config.sections.get("hardening")
    return {"hardening": found} if found is not None else {}
