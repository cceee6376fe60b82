"""IKE_AUTH, initiator side: requests, the responder's AUTH, Child SA and CP results
(RFC 7296 §1.2, §2.15–2.17, §2.19)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..crypto.auth import (
    shared_key_auth,
    signature_hash_algorithm,
    signed_octets,
    verify_auth_signature,
    verify_shared_key_auth,
)
from ..crypto.certs import (
    Certificate,
    cert_der,
    certreq_hash,
    load_certificate_bytes,
    verify_issued_by,
)
from ..crypto.keys import derive_child_keymat
from ..crypto.transforms import UnsupportedTransform, child_keymat_length
from ..ike.child import describe
from ..ike.settings import identity_text, make_identity
from ..wire.constants import (
    AuthMethod,
    CertEncoding,
    CfgAttr,
    CfgType,
    EsnId,
    IntegId,
    NotifyType,
    ProtocolId,
    TransformType,
)
from ..wire.payloads import (
    AuthPayload,
    CertPayload,
    CertReqPayload,
    CpPayload,
    IdPayload,
    NotifyPayload,
    Payload,
    SaPayload,
    TsPayload,
)
from .config import InitiatorConfig, accepted_transforms, cp_request, esp_sa_payload, ts_payloads
from .results import ChildResult
from .session import InitiatorSa


def first(payloads: list[Payload], kind: type, initiator: bool | None = None) -> Any:
    for p in payloads:
        if isinstance(p, kind) and (
            initiator is None or getattr(p, "initiator", None) == initiator
        ):
            return p
    return None


def load_ca(config: InitiatorConfig) -> Certificate | None:
    if config.ca_certificate is None:
        return None
    return load_certificate_bytes(config.ca_certificate)


def our_id(config: InitiatorConfig) -> IdPayload:
    return make_identity(config.identity, initiator=True)


def _psk_auth(config: InitiatorConfig, sa: InitiatorSa) -> AuthPayload:
    assert config.psk is not None
    octets = signed_octets(sa.init_request, sa.nr, sa.suite.prf, sa.keys.sk_pi, our_id(config).body)
    return AuthPayload(
        AuthMethod.SHARED_KEY, shared_key_auth(sa.suite.prf, config.psk.encode(), octets)
    )


def first_request(
    config: InitiatorConfig, sa: InitiatorSa, esp_spi: bytes, ca: Certificate | None
) -> tuple[list[Payload], SaPayload | None]:
    """Message 3: IDi, [CERTREQ], [IDr], [AUTH], [CP], SA, TSi, TSr; plus the ESP offer."""
    payloads: list[Payload] = [our_id(config)]
    if ca is not None:
        payloads.append(CertReqPayload(CertEncoding.X509_SIGNATURE, certreq_hash(ca)))
    if config.initial_contact:
        payloads.append(NotifyPayload(NotifyType.INITIAL_CONTACT))
    if config.eap_only and not config.uses_psk:
        payloads.append(NotifyPayload(NotifyType.EAP_ONLY_AUTHENTICATION))
    if config.remote_identity:
        payloads.append(make_identity(config.remote_identity, initiator=False))
    if config.uses_psk:
        payloads.append(_psk_auth(config, sa))
    if config.request_virtual_ip:
        payloads.append(cp_request())
    offer = None
    if config.child_sa:
        offer = esp_sa_payload(config.esp_specs(), esp_spi)
        payloads += [offer, *ts_payloads(config)]
    payloads += config.auth_extra
    return payloads, offer


def responder_octets(sa: InitiatorSa, id_r: IdPayload) -> bytes:
    """What the responder's AUTH covers: its IKE_SA_INIT message, Ni, prf(SK_pr, IDr')."""
    return signed_octets(sa.init_response, sa.ni, sa.suite.prf, sa.keys.sk_pr, id_r.body)


def final_auth(config: InitiatorConfig, sa: InitiatorSa, msk: bytes | None) -> AuthPayload:
    """Message after EAP-Success: AUTH keyed by the MSK, or SK_pi without one (§2.16)."""
    key = msk if msk else sa.keys.sk_pi
    octets = signed_octets(sa.init_request, sa.nr, sa.suite.prf, sa.keys.sk_pi, our_id(config).body)
    return AuthPayload(AuthMethod.SHARED_KEY, shared_key_auth(sa.suite.prf, key, octets))


@dataclass
class ResponderAuth:
    ok: bool
    reason: str = ""
    identity: str | None = None
    method: int | None = None
    cert: bytes | None = None
    trusted: bool = False
    id_payload: IdPayload | None = None


def _check_identity(
    config: InitiatorConfig, payloads: list[Payload], known_id: IdPayload | None = None
) -> tuple[IdPayload | None, AuthPayload | None, str]:
    id_r = first(payloads, IdPayload, initiator=False) or known_id
    auth = first(payloads, AuthPayload)
    if id_r is None or auth is None:
        return None, None, "IKE_AUTH response lacks IDr or AUTH"
    if config.remote_identity and identity_text(id_r) != config.remote_identity:
        return None, None, f"responder identity {identity_text(id_r)!r} is not the expected one"
    return id_r, auth, ""


def verify_shared(
    config: InitiatorConfig,
    sa: InitiatorSa,
    payloads: list[Payload],
    key: bytes,
    known_id: IdPayload | None = None,
) -> ResponderAuth:
    """The responder's AUTH from a PSK, the MSK, or SK_pr (EAP without MSK); the final
    AUTH of an EAP login comes without IDr, so the one seen first is ``known_id``."""
    id_r, auth, reason = _check_identity(config, payloads, known_id)
    if id_r is None or auth is None:
        return ResponderAuth(False, reason)
    text = identity_text(id_r)
    if auth.method != AuthMethod.SHARED_KEY or not verify_shared_key_auth(
        sa.suite.prf, key, responder_octets(sa, id_r), auth.data
    ):
        return ResponderAuth(False, "responder AUTH does not verify", text, auth.method)
    return ResponderAuth(True, identity=text, method=auth.method, id_payload=id_r)


def verify_eap_only(config: InitiatorConfig, payloads: list[Payload]) -> ResponderAuth:
    """RFC 5998 §3: a first response with IDr but no CERT/AUTH; the mutual EAP method and
    the MSK-keyed final AUTH authenticate the responder instead."""
    id_r = first(payloads, IdPayload, initiator=False)
    if id_r is None:
        return ResponderAuth(False, "EAP-only IKE_AUTH response lacks IDr")
    text = identity_text(id_r)
    if config.remote_identity and text != config.remote_identity:
        return ResponderAuth(False, f"responder identity {text!r} is not the expected one", text)
    return ResponderAuth(True, identity=text, id_payload=id_r)


def eap_only_problem(peer: Any) -> str:
    """Why the finished EAP method cannot authenticate an EAP-only responder, or ""."""
    method = getattr(peer, "method", None)
    if method is None or getattr(method, "mutual", False) is not True:
        return "EAP-only authentication requires a mutual EAP method (RFC 5998)"
    if not peer.msk():
        return "EAP-only authentication requires an MSK-deriving EAP method (RFC 5998)"
    return ""


def verify_signature(
    config: InitiatorConfig, sa: InitiatorSa, payloads: list[Payload], ca: Certificate | None
) -> ResponderAuth:
    """The responder's CERT + signature AUTH of the first IKE_AUTH response of an EAP login."""
    id_r, auth, reason = _check_identity(config, payloads)
    if id_r is None or auth is None:
        return ResponderAuth(False, reason)
    text = identity_text(id_r)
    certs = [
        p.data
        for p in payloads
        if isinstance(p, CertPayload) and p.encoding == CertEncoding.X509_SIGNATURE
    ]
    if not certs:
        return ResponderAuth(False, "responder sent no certificate", text, auth.method)
    if not verify_auth_signature(certs[0], auth.method, responder_octets(sa, id_r), auth.data):
        return ResponderAuth(
            False, "responder AUTH signature does not verify", text, auth.method, certs[0]
        )
    if (
        auth.method == AuthMethod.DIGITAL_SIGNATURE
        and signature_hash_algorithm(auth.data) not in config.signature_hash_algorithms
    ):
        return ResponderAuth(
            False, "responder signed with a hash we did not announce", text, auth.method, certs[0]
        )
    trusted = ca is not None and _chain_trusted(certs, ca)
    if ca is not None and not trusted:
        return ResponderAuth(
            False,
            "responder certificate is not issued by the trusted CA",
            text,
            auth.method,
            certs[0],
        )
    return ResponderAuth(True, "", text, auth.method, certs[0], trusted, id_r)


def _chain_trusted(certs: list[bytes], ca: Certificate) -> bool:
    """Each certificate issued by the next one, the last by ``ca`` (or ``ca`` itself)."""
    try:
        chain = [load_certificate_bytes(der) for der in certs]
    except ValueError:
        return False
    ca_der = cert_der(ca)
    for i, cert in enumerate(chain):
        if cert_der(cert) == ca_der:
            return i > 0
        issuer = chain[i + 1] if i + 1 < len(chain) else ca
        if not verify_issued_by(cert, issuer):
            return False
    return True


def child_result(
    sa: InitiatorSa, offer: SaPayload | None, spi_in: bytes, payloads: list[Payload]
) -> tuple[ChildResult | None, int | None]:
    """The Child SA the responder accepted, with our KEYMAT; else (None, refusing notify)."""
    for p in payloads:
        if isinstance(p, NotifyPayload) and p.notify_type < 16384:
            return None, p.notify_type
    reply, ts_i = first(payloads, SaPayload), first(payloads, TsPayload, initiator=True)
    ts_r = first(payloads, TsPayload, initiator=False)
    if offer is None or reply is None or ts_i is None or ts_r is None:
        return None, None
    found = accepted_transforms(offer, reply, ProtocolId.ESP)
    if found is None or len(found[0].spi) != 4:
        return None, NotifyType.NO_PROPOSAL_CHOSEN
    chosen, t = found
    encr = t[TransformType.ENCR]
    integ = t[TransformType.INTEG].id if TransformType.INTEG in t else IntegId.NONE
    esn = t[TransformType.ESN].id if TransformType.ESN in t else EsnId.NO_ESN
    bits = encr.key_length or 0
    try:
        length = child_keymat_length(encr.id, bits or None, integ)
    except UnsupportedTransform:
        return None, NotifyType.NO_PROPOSAL_CHOSEN
    keymat = derive_child_keymat(sa.suite.prf, sa.keys.sk_d, sa.ni, sa.nr, length)
    return ChildResult(
        spi_in,
        chosen.spi,
        encr.id,
        bits,
        integ,
        esn,
        keymat,
        tuple(describe(s) for s in ts_i.selectors),
        tuple(describe(s) for s in ts_r.selectors),
    ), None


def config_reply(payloads: list[Payload]) -> tuple[str | None, list[str]]:
    """(virtual IPv4 address, DNS servers) from a CFG_REPLY."""
    cp = first(payloads, CpPayload)
    if cp is None or cp.cfg_type != CfgType.CFG_REPLY:
        return None, []
    vip, dns = None, []
    for attr in cp.attributes:
        if attr.attr_type == CfgAttr.INTERNAL_IP4_ADDRESS and len(attr.value) in (4, 8):
            vip = str(ipaddress.IPv4Address(attr.value[:4]))
        elif attr.attr_type in (CfgAttr.INTERNAL_IP4_DNS, CfgAttr.INTERNAL_IP6_DNS) and len(
            attr.value
        ) in (4, 16):
            dns.append(str(ipaddress.ip_address(attr.value)))
    return vip, dns
