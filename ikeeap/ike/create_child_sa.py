"""CREATE_CHILD_SA, responder side (RFC 7296 §1.3, §2.8, §2.17, §2.18).

- Child SA rekey (N(REKEY_SA)) and new Child SAs, with or without PFS (KE payload).
- IKE SA rekey: a new IKE SA with new SPIs and keys from the old SK_d; the Child SAs, the
  virtual IP and the identity move to it. The initiator then deletes the old IKE SA.

We never start CREATE_CHILD_SA ourselves, so the §2.8.1 collisions a responder can see are
an initiator rekeying something that no longer exists (CHILD_SA_NOT_FOUND) or rekeying an IKE
SA that was already rekeyed (TEMPORARY_FAILURE, §2.25).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import struct
from dataclasses import dataclass

from ..crypto.dh import SUPPORTED_DH, InvalidKeyExchange, new_dh
from ..crypto.keys import derive_child_keymat, derive_rekeyed_ike_keys
from ..crypto.transforms import IkeSuite, child_keymat_length
from ..wire.constants import NotifyType, ProtocolId, TransformType
from ..wire.payloads import (
    KePayload,
    NoncePayload,
    NotifyPayload,
    Payload,
    Proposal,
    SaPayload,
    TsPayload,
    UnknownPayload,
)
from .child import _network_selector, _random_child_spi, describe, narrow
from .events import ChildSaEstablished, ChildSaRekeyed, Event, IkeSaRekeyed
from .proposals import Chosen, choose_esp, choose_ike
from .sa import ChildSa, IkeSa, Outcome, SaState
from .settings import ResponderSettings

log = logging.getLogger("ikeeap.ike")

NONCE_SIZE = 32


@dataclass
class CreateChildResult:
    outcome: Outcome
    new_ike_sa: IkeSa | None = None


class _Refused(Exception):
    """Answer with this notify instead (never escapes this module)."""

    def __init__(self, notify: NotifyPayload, reason: str):
        super().__init__(reason)
        self.notify = notify


def _refuse(notify_type: int, reason: str, data: bytes = b"") -> _Refused:
    return _Refused(NotifyPayload(notify_type, data), reason)


def handle_create_child_sa(settings: ResponderSettings, sa: IkeSa, payloads: list[Payload],
                           random, now: float) -> CreateChildResult:
    try:
        return _handle(settings, sa, payloads, random, now)
    except _Refused as refused:
        log.info("%s CREATE_CHILD_SA refused: %s", sa.log_prefix(), refused)
        return CreateChildResult(Outcome([refused.notify]))


def _handle(settings: ResponderSettings, sa: IkeSa, payloads: list[Payload], random,
            now: float) -> CreateChildResult:
    critical = next((p for p in payloads if isinstance(p, UnknownPayload) and p.critical), None)
    if critical is not None:
        raise _refuse(NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD, "critical payload",
                      bytes([critical.type]))
    sa_payload = _first(payloads, SaPayload)
    nonce = _first(payloads, NoncePayload)
    if sa_payload is None or nonce is None or not 16 <= len(nonce.data) <= 256:
        raise _refuse(NotifyType.INVALID_SYNTAX, "SA or nonce missing")
    if sa.rekeyed_to is not None:
        raise _refuse(NotifyType.TEMPORARY_FAILURE, "IKE SA already rekeyed")
    if any(p.protocol == ProtocolId.IKE for p in sa_payload.proposals):
        return _rekey_ike(settings, sa, sa_payload, nonce.data, _first(payloads, KePayload),
                          random, now)
    return CreateChildResult(_child(settings, sa, payloads, sa_payload, nonce.data, random))


def _first(payloads: list[Payload], kind: type):
    return next((p for p in payloads if isinstance(p, kind)), None)


def _key_exchange(group: int, ke: KePayload | None) -> tuple[bytes, bytes]:
    """(our KE data, shared secret) for ``group``; refuses a missing or unusable KE."""
    if ke is None:
        raise _refuse(NotifyType.INVALID_SYNTAX, "KE payload missing")
    if ke.group != group:
        raise _refuse(NotifyType.INVALID_KE_PAYLOAD, f"KE group {ke.group}, want {group}",
                      struct.pack("!H", group))
    dh = new_dh(group)
    try:
        return dh.public, dh.compute(ke.data)
    except InvalidKeyExchange:
        raise _refuse(NotifyType.INVALID_SYNTAX, "invalid KE data") from None


# ---- IKE SA rekey (§2.18) -------------------------------------------------------------------


def _rekey_ike(settings: ResponderSettings, sa: IkeSa, offer: SaPayload, ni: bytes,
               ke: KePayload | None, random, now: float) -> CreateChildResult:
    chosen = choose_ike(settings.ike_proposals, offer.proposals, ke.group if ke else None)
    if chosen is None or len(chosen.spi) != 8:
        raise _refuse(NotifyType.NO_PROPOSAL_CHOSEN, "no acceptable IKE proposal")
    public, shared = _key_exchange(chosen.dh, ke)
    spi_r, nr = random(8), random(NONCE_SIZE)
    suite = IkeSuite(chosen.encr, chosen.encr_key_bits, chosen.prf, chosen.integ, chosen.dh)
    keys = derive_rekeyed_ike_keys(suite, sa.suite.prf, sa.keys.sk_d, shared, ni, nr,
                                   chosen.spi, spi_r)
    new = IkeSa(spi_i=chosen.spi, spi_r=spi_r, remote=sa.remote, local=sa.local, created=now,
                deadline=float("inf"), suite=suite, keys=keys, ni=ni, nr=nr,
                init_request=b"", init_response=b"", peer_hash_algorithms=sa.peer_hash_algorithms,
                state=SaState.ESTABLISHED, next_request_id=0, auth=sa.auth,
                children=sa.children, virtual_ip=sa.virtual_ip, pool_name=sa.pool_name,
                peer_id_text=sa.peer_id_text, nat_detected=sa.nat_detected,
                fragmentation=sa.fragmentation)
    # The old SA only waits for its Delete now: it must not release what moved.
    sa.children, sa.virtual_ip, sa.pool_name = [], None, None
    sa.rekeyed_to = new.spi_r
    log.info("%s IKE SA rekeyed to %s", sa.log_prefix(), new.id[:8])
    payloads: list[Payload] = [SaPayload((chosen.payload(ProtocolId.IKE, spi_r),)),
                               NoncePayload(nr), KePayload(chosen.dh, public)]
    return CreateChildResult(Outcome(payloads, events=[IkeSaRekeyed(sa.id, new.id)]), new)


# ---- Child SAs ------------------------------------------------------------------------------


def _rekeyed_child(sa: IkeSa, payloads: list[Payload]) -> ChildSa | None:
    """The Child SA a REKEY_SA notify names (its SPI is our outbound SPI, §1.3.3)."""
    rekey = next((p for p in payloads if isinstance(p, NotifyPayload)
                  and p.notify_type == NotifyType.REKEY_SA), None)
    if rekey is None:
        return None
    child = next((c for c in sa.children if c.spi_out == rekey.spi), None)
    if child is None:
        raise _Refused(NotifyPayload(NotifyType.CHILD_SA_NOT_FOUND, protocol=rekey.protocol,
                                     spi=rekey.spi), f"no Child SA {rekey.spi.hex()} to rekey")
    return child


def _pfs(chosen: Chosen, offer: SaPayload, ke: KePayload | None) -> tuple[Chosen, bytes, bytes]:
    """The chosen proposal with its DH group, our KE data and the shared secret, when the
    initiator asked for PFS (a DH transform in the accepted proposal)."""
    proposal: Proposal = next(p for p in offer.proposals if p.number == chosen.number
                              and p.spi == chosen.spi)
    groups = [t.id for t in proposal.transforms if t.type == TransformType.DH and t.id]
    if not groups:
        return chosen, b"", b""
    usable = [g for g in groups if g in SUPPORTED_DH]
    if ke is not None and ke.group in usable:
        group = ke.group
    elif usable:
        group = usable[0]
    else:
        raise _refuse(NotifyType.NO_PROPOSAL_CHOSEN, f"no supported PFS group in {groups}")
    public, shared = _key_exchange(group, ke)
    return dataclasses.replace(chosen, dh=group), public, shared


def _check_child_limit(limit: int, sa: IkeSa, old: ChildSa | None) -> None:
    """At most ``limit`` Child SAs per IKE SA; a rekey may overlap its old SA until the
    initiator deletes that, but rekeys without deletes cannot pile up either."""
    live = sum(1 for c in sa.children if not c.rekeyed)
    if (old is None and live >= limit) or len(sa.children) >= 2 * limit:
        raise _refuse(NotifyType.NO_ADDITIONAL_SAS,
                      f"{len(sa.children)} Child SAs ({live} not rekeyed), max_child_sas {limit}")


def _child(settings: ResponderSettings, sa: IkeSa, payloads: list[Payload], offer: SaPayload,
           ni: bytes, random) -> Outcome:
    old = _rekeyed_child(sa, payloads)
    _check_child_limit(settings.hardening.max_child_sas, sa, old)
    ts_i_offer = next((p for p in payloads if isinstance(p, TsPayload) and p.initiator), None)
    ts_r_offer = next((p for p in payloads if isinstance(p, TsPayload) and not p.initiator),
                      None)
    if ts_i_offer is None or ts_r_offer is None:
        raise _refuse(NotifyType.INVALID_SYNTAX, "traffic selectors missing")
    chosen = choose_esp(settings.esp_proposals, offer.proposals)
    if chosen is None:
        raise _refuse(NotifyType.NO_PROPOSAL_CHOSEN, "no acceptable ESP proposal")
    chosen, public, shared = _pfs(chosen, offer, _first(payloads, KePayload))
    ts_i, ts_r = _selectors(sa, ts_i_offer, ts_r_offer)
    nr = random(NONCE_SIZE)
    spi_in = _random_child_spi()
    keymat = derive_child_keymat(sa.suite.prf, sa.keys.sk_d, ni, nr,
                                 child_keymat_length(chosen.encr, chosen.encr_key_bits,
                                                     chosen.integ), shared)
    sa.children.append(ChildSa(spi_in, chosen.spi, f"{len(sa.children)}"))
    if old is not None:
        old.rekeyed = True
    events: list[Event] = [ChildSaEstablished(
        sa.id, spi_in, chosen.spi, chosen.encr, chosen.encr_key_bits, chosen.integ, keymat,
        tuple(describe(t) for t in ts_i), tuple(describe(t) for t in ts_r), chosen.esn,
        udp_encap=sa.nat_detected)]
    if old is not None:
        events.append(ChildSaRekeyed(sa.id, old.spi_in, old.spi_out, spi_in, chosen.spi))
    log.info("%s CHILD SA %s/%s %s%s", sa.log_prefix(), spi_in.hex(), chosen.spi.hex(),
             f"rekeys {old.spi_in.hex()}" if old else "added", " with PFS" if shared else "")
    out: list[Payload] = [SaPayload((chosen.payload(ProtocolId.ESP, spi_in),)), NoncePayload(nr)]
    if public:
        out.append(KePayload(chosen.dh, public))
    return Outcome(out + [TsPayload(True, ts_i), TsPayload(False, ts_r)], events=events)


def _selectors(sa: IkeSa, ts_i: TsPayload, ts_r: TsPayload):
    """Narrowed as for the first Child SA: the virtual IP on their side, local_ts on ours."""
    if sa.virtual_ip is not None:
        ours_i = [_network_selector(ipaddress.ip_network(f"{sa.virtual_ip}/32"))]
    else:
        ours_i = list(ts_i.selectors)
    conn = sa.auth.connection if sa.auth is not None else None
    local = getattr(conn, "local_ts", (ipaddress.ip_network("0.0.0.0/0"),))
    narrowed_i = narrow(ts_i.selectors, ours_i)
    narrowed_r = narrow(ts_r.selectors, [_network_selector(n) for n in local])
    if not narrowed_i or not narrowed_r:
        raise _refuse(NotifyType.TS_UNACCEPTABLE, "traffic selectors unacceptable")
    return narrowed_i, narrowed_r
