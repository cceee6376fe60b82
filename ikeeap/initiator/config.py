"""What one test/load initiator offers and proves (frozen), and the payloads built from it."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..crypto.auth import SUPPORTED_HASH_ALGORITHMS
from ..eap.packet import EapType
from ..ike.proposals import EspProposalSpec, IkeProposalSpec, parse_esp_proposal, parse_ike_proposal
from ..wire.constants import CfgAttr, CfgType, ProtocolId, TransformType, TsType
from ..wire.payloads import (
    CfgAttribute,
    CpPayload,
    Payload,
    Proposal,
    SaPayload,
    TrafficSelector,
    Transform,
    TsPayload,
)

EAP_METHOD_TYPES: dict[str, int] = {
    "md5": EapType.MD5,
    "gtc": EapType.GTC,
    "mschapv2": EapType.MSCHAPV2,
    "pwd": EapType.PWD,
}


@dataclass(frozen=True)
class InitiatorConfig:
    """One client. ``psk`` set: PSK authentication of both sides; else EAP.

    ``ike_proposals``/``esp_proposals`` use the responder's proposal syntax
    (``ikeeap.ike.proposals``); each string becomes one proposal. ``dh_group`` is the group
    of the first KE payload (default: the first group of the first IKE proposal).
    ``ca_certificate`` (DER or PEM) makes the initiator send CERTREQ and require the
    responder's certificate to be issued by that CA. ``signature_hash_algorithms`` are
    announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427; empty: not sent). ``nat_t`` floats IKE_AUTH and later
    exchanges to the responder's port 4500 with the non-ESP marker; ``fake_nat`` also sends a
    NAT_DETECTION_SOURCE_IP hash that cannot match, as a client behind a NAT would.
    ``sa_init_extra``/``auth_extra`` are appended to those requests (tests of odd peers).
    """

    identity: str = "alice@example.org"
    eap_identity: str | None = None
    password: str = ""
    eap_methods: tuple[str, ...] = ("mschapv2",)
    psk: str | None = None
    ike_proposals: tuple[str, ...] = ("aes256gcm16-prfsha256-ecp256",)
    esp_proposals: tuple[str, ...] = ("aes256gcm16",)
    dh_group: int | None = None
    request_virtual_ip: bool = True
    remote_identity: str | None = None
    ca_certificate: bytes | None = None
    signature_hash_algorithms: tuple[int, ...] = SUPPORTED_HASH_ALGORITHMS
    nat_t: bool = False
    fake_nat: bool = False
    ts_i: tuple[str, ...] = ("0.0.0.0/0",)
    ts_r: tuple[str, ...] = ("0.0.0.0/0",)
    initial_contact: bool = True
    child_sa: bool = True
    retransmit_timeout: float = 1.0
    retransmit_tries: int = 4
    max_init_retries: int = 3
    nonce_size: int = 32
    allow_modp1024: bool = False
    sa_init_extra: tuple[Payload, ...] = ()
    auth_extra: tuple[Payload, ...] = ()
    # RFC 5998: send N(EAP_ONLY_AUTHENTICATION); a response without CERT/AUTH is then
    # accepted, and the EAP method must be mutual and produce an MSK.
    eap_only: bool = False
    # (EAP identity, password) -> an object with EapPeer's respond()/succeeded/msk()/method;
    # the method-author kit plugs peer sides of new methods in here (eap_methods ignored).
    eap_peer: Callable[[bytes, str], Any] | None = None

    def __post_init__(self) -> None:
        unknown = [m for m in self.eap_methods if m not in EAP_METHOD_TYPES]
        if unknown and self.eap_peer is None:
            raise ValueError(f"the initiator cannot do EAP methods {unknown}")
        if not self.ike_proposals:
            raise ValueError("at least one IKE proposal is needed")
        if self.child_sa and not self.esp_proposals:
            raise ValueError("a Child SA needs at least one ESP proposal")
        self.ike_specs()  # raise ProposalError early
        self.esp_specs()

    @property
    def uses_psk(self) -> bool:
        return self.psk is not None

    @property
    def eap_types(self) -> tuple[int, ...]:
        return tuple(EAP_METHOD_TYPES[m] for m in self.eap_methods)

    def ike_specs(self) -> tuple[IkeProposalSpec, ...]:
        return tuple(parse_ike_proposal(t, self.allow_modp1024) for t in self.ike_proposals)

    def esp_specs(self) -> tuple[EspProposalSpec, ...]:
        return tuple(parse_esp_proposal(t) for t in self.esp_proposals)

    def first_dh_group(self) -> int:
        return self.dh_group if self.dh_group is not None else self.ike_specs()[0].dh[0]


def _encr_transforms(spec: IkeProposalSpec | EspProposalSpec) -> list[Transform]:
    return [Transform(TransformType.ENCR, eid, bits) for eid, bits in spec.encr]


def ike_sa_payload(specs: tuple[IkeProposalSpec, ...]) -> SaPayload:
    """One IKE proposal per spec, numbered from 1, each with every listed algorithm."""
    proposals = []
    for number, spec in enumerate(specs, 1):
        transforms = _encr_transforms(spec)
        transforms += [Transform(TransformType.PRF, p) for p in spec.prf]
        transforms += [Transform(TransformType.INTEG, i) for i in spec.integ]
        transforms += [Transform(TransformType.DH, g) for g in spec.dh]
        proposals.append(Proposal(number, ProtocolId.IKE, b"", tuple(transforms)))
    return SaPayload(tuple(proposals))


def esp_sa_payload(specs: tuple[EspProposalSpec, ...], spi: bytes) -> SaPayload:
    """One ESP proposal per spec, all carrying our inbound SPI."""
    proposals = []
    for number, spec in enumerate(specs, 1):
        transforms = _encr_transforms(spec)
        transforms += [Transform(TransformType.INTEG, i) for i in spec.integ]
        transforms += [Transform(TransformType.ESN, e) for e in spec.esn]
        proposals.append(Proposal(number, ProtocolId.ESP, spi, tuple(transforms)))
    return SaPayload(tuple(proposals))


def selector(text: str) -> TrafficSelector:
    """A traffic selector for a network (``10.0.0.0/8``, ``::/0``), all protocols and ports."""
    net = ipaddress.ip_network(text, strict=False)
    kind = TsType.IPV4_ADDR_RANGE if net.version == 4 else TsType.IPV6_ADDR_RANGE
    return TrafficSelector(
        kind, 0, 0, 65535, net.network_address.packed, net.broadcast_address.packed
    )


def ts_payloads(config: InitiatorConfig) -> list[Payload]:
    ts_i = tuple(selector(t) for t in config.ts_i)
    ts_r = tuple(selector(t) for t in config.ts_r)
    return [TsPayload(True, ts_i), TsPayload(False, ts_r)]


def cp_request() -> CpPayload:
    """CFG_REQUEST for an IPv4 address and DNS servers (RFC 7296 §3.15)."""
    return CpPayload(
        CfgType.CFG_REQUEST,
        (CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS), CfgAttribute(CfgAttr.INTERNAL_IP4_DNS)),
    )


def accepted_transforms(
    offered: SaPayload, reply: SaPayload, protocol: int
) -> tuple[Proposal, dict[int, Transform]] | None:
    """The responder's single chosen proposal, one transform per type, if it is one we
    offered (same number, protocol, and every transform among the offered ones)."""
    if len(reply.proposals) != 1:
        return None
    chosen = reply.proposals[0]
    ours = next((p for p in offered.proposals if p.number == chosen.number), None)
    if ours is None or chosen.protocol != protocol or ours.protocol != protocol:
        return None
    by_type: dict[int, Transform] = {}
    for t in chosen.transforms:
        if t.type in by_type or t not in ours.transforms:
            return None
        by_type[t.type] = t
    return chosen, by_type
