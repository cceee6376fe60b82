"""Builds the core's run-time objects from a Config: credentials, users, EAP methods.

The only place that reads key and certificate files, so the core stays free of file I/O.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .config import CertificateConfig, Config, ConnectionConfig
from .crypto.auth import Signer
from .crypto.certs import (
    cert_der, certreq_hash, generate_ca, generate_server_cert, load_certificate,
    load_private_key, save_pem,
)
from .eap.authenticator import EapAuthenticator
from .eap.credentials import LocalUserStore, Providers
from .eap.method import EapContext
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
        self._providers = providers
        self._methods = {
            conn.name: [registry.factory_for(name, config.methods.get(name), providers)
                        for name in conn.eap_methods]
            for conn in config.connections if conn.auth == "eap"
        }

    def __call__(self, conn: ConnectionConfig, peer_identity: str,
                 remote: tuple[str, int]) -> EapAuthenticator:
        context = EapContext(identity=peer_identity.encode(), peer=f"{remote[0]}:{remote[1]}",
                             providers=self._providers)
        return EapAuthenticator(self._methods[conn.name], context,
                                identity_round=conn.eap_identity_round)


def build_settings(config: Config, registry: MethodRegistry | None = None,
                   credentials: ServerCredentials | None = None) -> ResponderSettings:
    registry = registry or load_registry(config)
    if credentials is None and config.certificates is not None:
        credentials = ensure_certificates(config.certificates, config.server.identity)
    providers = Providers.from_store(LocalUserStore.from_config(config.users))
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
    )
