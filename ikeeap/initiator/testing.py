"""Responder settings for in-memory tests and the method-author kit (not the real server:
``ikeeap.runtime`` builds those from a config file).

    pki = make_pki("ecdsa")
    settings = make_settings(users={"alice": "secret"}, eap_methods=("md5",), pki=pki)
    client = InitiatorConfig(identity="alice", password="secret", eap_methods=("md5",),
                             ca_certificate=pki.ca.der)
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import DEFAULT_ESP_PROPOSALS, DEFAULT_IKE_PROPOSALS, ConnectionConfig
from ..crypto.auth import Signer
from ..crypto.certs import CertKey, certreq_hash, generate_ca, generate_server_cert
from ..eap.authenticator import EapAuthenticator
from ..eap.credentials import LocalUserStore, Providers, UserCredential
from ..eap.method import EapContext
from ..eap.registry import MethodRegistry
from ..ike.proposals import parse_esp_proposal, parse_ike_proposal
from ..ike.settings import ResponderSettings, make_identity

SERVER_IDENTITY = "vpn.example.org"


@dataclass(frozen=True)
class Pki:
    ca: CertKey
    server: CertKey


@functools.cache
def make_pki(
    key_type: str = "ecdsa",
    identity: str = SERVER_IDENTITY,
    curve: str = "P-256",
    rsa_bits: int = 2048,
) -> Pki:
    """A CA and a server certificate for ``identity`` (cached: RSA keys are slow to make)."""
    args: dict[str, Any] = {"curve": curve} if key_type == "ecdsa" else {"rsa_bits": rsa_bits}
    ca = generate_ca("ikeeap test CA", key_type, **args)
    return Pki(ca, generate_server_cert(ca, identity, key_type, **args))


def eap_factory(
    registry: MethodRegistry,
    providers: Providers,
    method_config: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """The ``ResponderSettings.eap_factory`` building one authenticator per IKE SA from the
    connection's method list."""
    configs = dict(method_config or {})

    def build(conn: ConnectionConfig, peer_id: str, remote: tuple[str, int]) -> EapAuthenticator:
        factories = [
            registry.factory_for(name, dict(configs.get(name, {})), providers)
            for name in conn.eap_methods
        ]
        ctx = EapContext(
            identity=b"" if conn.eap_identity_round else peer_id.encode(),
            peer=f"{remote[0]}:{remote[1]}",
            providers=providers,
        )
        return EapAuthenticator(factories, ctx, identity_round=conn.eap_identity_round,
                                outer_identity=conn.outer_identity)

    return build


def make_settings(
    users: Mapping[str, str] | None = None,
    eap_methods: Sequence[str] = ("mschapv2", "md5", "gtc"),
    *,
    psk: str | None = None,
    pki: Pki | None = None,
    identity: str = SERVER_IDENTITY,
    pool: str | None = "10.10.0.0/24",
    dns: tuple[str, ...] = ("10.10.0.1",),
    ike_proposals: Sequence[str] = DEFAULT_IKE_PROPOSALS,
    esp_proposals: Sequence[str] = DEFAULT_ESP_PROPOSALS,
    registry: MethodRegistry | None = None,
    method_config: Mapping[str, Mapping[str, Any]] | None = None,
    eap_identity_round: bool = True,
    eap_only: str = "never",
    server_certificate: bool = True,
    connection_options: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> ResponderSettings:
    """An EAP connection (and a PSK one when ``psk`` is given) accepting any identity.

    ``eap_only`` is the connection's RFC 5998 mode; ``server_certificate=False`` leaves the
    responder without certificate and signer (EAP-only logins only); ``connection_options``
    sets more ConnectionConfig fields of the EAP connection (``eap_id``, ``outer_identity``)."""
    users = {"alice": "secret"} if users is None else users
    pki = pki or make_pki()
    store = LocalUserStore({u: UserCredential(password=p) for u, p in users.items()})
    net = ipaddress.IPv4Network(pool) if pool else None
    conns = [
        ConnectionConfig(
            name="eap",
            auth="eap",
            eap_methods=tuple(eap_methods),
            pool=net,
            dns=dns,
            eap_identity_round=eap_identity_round,
            eap_only=eap_only,
            **dict(connection_options or {}),
        )
    ]
    if psk is not None:
        psk_pool = ipaddress.IPv4Network("10.11.0.0/24") if pool else None
        conns.append(ConnectionConfig(name="psk", auth="psk", psk=psk, pool=psk_pool, dns=dns))
    return ResponderSettings(
        identity=make_identity(identity),
        ike_proposals=tuple(parse_ike_proposal(p) for p in ike_proposals),
        esp_proposals=tuple(parse_esp_proposal(p) for p in esp_proposals),
        connections=tuple(conns),
        eap_factory=eap_factory(
            registry or MethodRegistry.discover(entry_points=False),
            Providers.from_store(store),
            method_config,
        ),
        signer=Signer(pki.server.key) if server_certificate else None,
        cert_chain=(pki.server.der,) if server_certificate else (),
        certreq=certreq_hash(pki.ca.cert) if server_certificate else b"",
        **overrides,
    )
