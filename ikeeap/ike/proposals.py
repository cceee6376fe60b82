"""Proposals: strongSwan-style strings in config, and the responder's choice (RFC 7296 §2.7).

A configured proposal lists acceptable algorithms per transform type, most preferred first,
e.g. ``aes256gcm16-prfsha384-ecp384``. The responder walks its own proposals in order and
takes the first that every transform type of one initiator proposal can satisfy.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..wire.constants import DhId, EncrId, EsnId, IntegId, PrfId, ProtocolId, TransformType
from ..wire.payloads import Proposal, Transform


class ProposalError(ValueError):
    """A proposal string names an unknown or inconsistent algorithm."""


# token -> (encr id, key bits)
_ENCR = {
    "aes128": (EncrId.AES_CBC, 128), "aes192": (EncrId.AES_CBC, 192),
    "aes256": (EncrId.AES_CBC, 256),
    "aes128gcm16": (EncrId.AES_GCM_16, 128), "aes256gcm16": (EncrId.AES_GCM_16, 256),
    "aes128gcm": (EncrId.AES_GCM_16, 128), "aes256gcm": (EncrId.AES_GCM_16, 256),
    "chacha20poly1305": (EncrId.CHACHA20_POLY1305, 0),
}
_AEAD = {EncrId.AES_GCM_16, EncrId.CHACHA20_POLY1305}
_INTEG = {
    "sha1": IntegId.HMAC_SHA1_96, "sha256": IntegId.HMAC_SHA2_256_128,
    "sha384": IntegId.HMAC_SHA2_384_192, "sha512": IntegId.HMAC_SHA2_512_256,
}
_PRF = {
    "prfsha1": PrfId.HMAC_SHA1, "prfsha256": PrfId.HMAC_SHA2_256,
    "prfsha384": PrfId.HMAC_SHA2_384, "prfsha512": PrfId.HMAC_SHA2_512,
}
_PRF_FOR_INTEG = {
    IntegId.HMAC_SHA1_96: PrfId.HMAC_SHA1, IntegId.HMAC_SHA2_256_128: PrfId.HMAC_SHA2_256,
    IntegId.HMAC_SHA2_384_192: PrfId.HMAC_SHA2_384, IntegId.HMAC_SHA2_512_256: PrfId.HMAC_SHA2_512,
}
_DH = {
    "modp1024": DhId.MODP_1024, "modp2048": DhId.MODP_2048, "modp3072": DhId.MODP_3072,
    "ecp256": DhId.ECP_256, "ecp384": DhId.ECP_384, "ecp521": DhId.ECP_521,
    "curve25519": DhId.CURVE25519, "x25519": DhId.CURVE25519,
}
_ESN = {"esn": EsnId.ESN, "noesn": EsnId.NO_ESN}

Algorithm = tuple[int, int | None]  # transform id, key length in bits (None: no attribute)


@dataclass(frozen=True)
class IkeProposalSpec:
    text: str
    encr: tuple[Algorithm, ...]
    integ: tuple[int, ...]
    prf: tuple[int, ...]
    dh: tuple[int, ...]


@dataclass(frozen=True)
class EspProposalSpec:
    text: str
    encr: tuple[Algorithm, ...]
    integ: tuple[int, ...]
    esn: tuple[int, ...]


@dataclass(frozen=True)
class Chosen:
    """The selected transforms, as ids, plus the proposal payload to send back."""

    number: int
    encr: int
    encr_key_bits: int
    integ: int
    prf: int
    dh: int
    esn: int
    spi: bytes

    def payload(self, protocol: int, spi: bytes) -> Proposal:
        key = self.encr_key_bits or None
        transforms = [Transform(TransformType.ENCR, self.encr, key)]
        if protocol == ProtocolId.IKE:
            transforms.append(Transform(TransformType.PRF, self.prf))
        if self.integ:
            transforms.append(Transform(TransformType.INTEG, self.integ))
        if self.dh:
            transforms.append(Transform(TransformType.DH, self.dh))
        if protocol == ProtocolId.ESP:
            transforms.append(Transform(TransformType.ESN, self.esn))
        return Proposal(self.number, protocol, spi, tuple(transforms))


def _tokens(text: str) -> list[str]:
    tokens = [t for t in text.strip().lower().split("-") if t]
    if not tokens:
        raise ProposalError("empty proposal")
    return tokens


def _encr_alg(token: str) -> Algorithm:
    encr, bits = _ENCR[token]
    return int(encr), (bits or None)


def parse_ike_proposal(text: str, allow_modp1024: bool = False) -> IkeProposalSpec:
    encr: list[Algorithm] = []
    integ: list[int] = []
    prf: list[int] = []
    dh: list[int] = []
    for token in _tokens(text):
        if token in _ENCR:
            encr.append(_encr_alg(token))
        elif token in _INTEG:
            integ.append(int(_INTEG[token]))
        elif token in _PRF:
            prf.append(int(_PRF[token]))
        elif token in _DH:
            if _DH[token] == DhId.MODP_1024 and not allow_modp1024:
                raise ProposalError("modp1024 needs server.allow_modp1024 = true")
            dh.append(int(_DH[token]))
        else:
            raise ProposalError(f"unknown algorithm {token!r}")
    if not encr or not dh:
        raise ProposalError("needs an encryption algorithm and a DH group")
    aead = {alg for alg, _ in encr} & _AEAD
    if aead and len(aead) != len({alg for alg, _ in encr}):
        raise ProposalError("do not mix AEAD and non-AEAD ciphers in one proposal")
    if aead and integ:
        raise ProposalError("AEAD ciphers take no integrity algorithm")
    if not aead and not integ:
        raise ProposalError("needs an integrity algorithm")
    if not prf:
        prf = [int(_PRF_FOR_INTEG[IntegId(i)]) for i in integ] if integ else []
    if not prf:
        raise ProposalError("AEAD proposals need a PRF (e.g. prfsha256)")
    return IkeProposalSpec(text, tuple(encr), tuple(integ), tuple(dict.fromkeys(prf)), tuple(dh))


def parse_esp_proposal(text: str) -> EspProposalSpec:
    encr: list[Algorithm] = []
    integ: list[int] = []
    esn: list[int] = []
    for token in _tokens(text):
        if token in _ENCR:
            encr.append(_encr_alg(token))
        elif token in _INTEG:
            integ.append(int(_INTEG[token]))
        elif token in _ESN:
            esn.append(int(_ESN[token]))
        elif token in _DH:
            continue  # PFS groups matter only for CREATE_CHILD_SA (a later feature)
        else:
            raise ProposalError(f"unknown algorithm {token!r}")
    if not encr:
        raise ProposalError("needs an encryption algorithm")
    aead = {alg for alg, _ in encr} & _AEAD
    if not aead and not integ:
        raise ProposalError("needs an integrity algorithm")
    return EspProposalSpec(text, tuple(encr), tuple(integ), tuple(esn or [EsnId.NO_ESN]))


def _offered(proposal: Proposal) -> dict[int, list[Algorithm]]:
    offered: dict[int, list[Algorithm]] = {}
    for t in proposal.transforms:
        if t.other_attrs:
            continue  # unknown attributes make a transform unacceptable (RFC 7296 §3.3.6)
        offered.setdefault(t.type, []).append((t.id, t.key_length))
    return offered


def _pick_encr(ours: tuple[Algorithm, ...], theirs: list[Algorithm]) -> Algorithm | None:
    for alg in ours:
        if alg in theirs:
            return alg
    return None


def _pick(ours: tuple[int, ...], theirs: list[Algorithm], prefer: int | None = None) -> int | None:
    ids = [t for t, _ in theirs]
    if prefer is not None and prefer in ours and prefer in ids:
        return prefer
    for alg in ours:
        if alg in ids:
            return alg
    return None


def choose_ike(ours: tuple[IkeProposalSpec, ...], theirs: tuple[Proposal, ...],
               ke_group: int | None) -> Chosen | None:
    """Our first proposal that one of theirs satisfies; prefers the KE group they sent."""
    for spec in ours:
        for proposal in theirs:
            if proposal.protocol != ProtocolId.IKE:
                continue
            offered = _offered(proposal)
            encr = _pick_encr(spec.encr, offered.get(TransformType.ENCR, []))
            prf = _pick(spec.prf, offered.get(TransformType.PRF, []))
            dh = _pick(spec.dh, offered.get(TransformType.DH, []), prefer=ke_group)
            integ = _pick(spec.integ, offered.get(TransformType.INTEG, [])) if spec.integ else 0
            if encr is None or prf is None or dh is None or integ is None:
                continue
            if not spec.integ and any(i != 0 for i, _ in offered.get(TransformType.INTEG, [])):
                continue  # AEAD offered together with a real integrity algorithm: malformed
            return Chosen(proposal.number, encr[0], encr[1] or 0, integ, prf, dh, 0,
                          proposal.spi)
    return None


def choose_esp(ours: tuple[EspProposalSpec, ...], theirs: tuple[Proposal, ...]) -> Chosen | None:
    """Our first ESP proposal that one of theirs satisfies (DH transforms are ignored)."""
    for spec in ours:
        for proposal in theirs:
            if proposal.protocol != ProtocolId.ESP or len(proposal.spi) != 4:
                continue
            offered = _offered(proposal)
            encr = _pick_encr(spec.encr, offered.get(TransformType.ENCR, []))
            integ = _pick(spec.integ, offered.get(TransformType.INTEG, [])) if spec.integ else 0
            if encr is not None and encr[0] in _AEAD:
                integ = 0
            esn_offered = offered.get(TransformType.ESN, [(EsnId.NO_ESN, None)])
            esn = _pick(spec.esn, esn_offered)
            if encr is None or integ is None or esn is None:
                continue
            if encr[0] not in _AEAD and not integ:
                continue
            return Chosen(proposal.number, encr[0], encr[1] or 0, integ, 0, 0, esn, proposal.spi)
    return None
