"""The first Child SA and the configuration payload of IKE_AUTH (RFC 7296 §2.9, §2.17, §2.19).

A failed Child SA does not fail the IKE SA: the answer carries the error notify instead.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import struct
from typing import Any

from ..crypto.keys import derive_child_keymat
from ..crypto.transforms import child_keymat_length
from ..wire.constants import CfgAttr, CfgType, NotifyType, ProtocolId, TsType
from ..wire.payloads import (
    CfgAttribute, CpPayload, NotifyPayload, Payload, SaPayload, TrafficSelector, TsPayload,
)
from .events import ChildSaEstablished, Event
from .proposals import choose_esp
from .sa import AuthProgress, ChildSa, IkeSa
from .settings import ResponderSettings

log = logging.getLogger("ikeeap.ike")


@functools.lru_cache(maxsize=1024)  # the connection's few local_ts, built on every login
def _network_selector(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> TrafficSelector:
    kind = TsType.IPV4_ADDR_RANGE if net.version == 4 else TsType.IPV6_ADDR_RANGE
    return TrafficSelector(kind, 0, 0, 65535, net.network_address.packed,
                           net.broadcast_address.packed)


def _intersect(a: TrafficSelector, b: TrafficSelector) -> TrafficSelector | None:
    if a.ts_type != b.ts_type:
        return None
    if a.ip_protocol and b.ip_protocol and a.ip_protocol != b.ip_protocol:
        return None
    start_port, end_port = max(a.start_port, b.start_port), min(a.end_port, b.end_port)
    start, end = max(a.start_addr, b.start_addr), min(a.end_addr, b.end_addr)
    if start_port > end_port or start > end:
        return None
    return TrafficSelector(a.ts_type, a.ip_protocol or b.ip_protocol, start_port, end_port,
                           start, end)


def narrow(theirs: tuple[TrafficSelector, ...], ours: list[TrafficSelector]
           ) -> tuple[TrafficSelector, ...]:
    """Every non-empty intersection of their selectors with ours (RFC 7296 §2.9)."""
    out = []
    for t in theirs:
        for o in ours:
            hit = _intersect(t, o)
            if hit is not None and hit not in out:
                out.append(hit)
    return tuple(out)


@functools.lru_cache(maxsize=4096)  # ipaddress summarising is slow; selectors repeat
def describe(ts: TrafficSelector) -> str:
    start, end = ipaddress.ip_address(ts.start_addr), ipaddress.ip_address(ts.end_addr)
    nets = list(ipaddress.summarize_address_range(start, end))
    text = str(nets[0]) if len(nets) == 1 else f"{start}-{end}"
    if ts.ip_protocol or (ts.start_port, ts.end_port) != (0, 65535):
        text += f"[{ts.ip_protocol}/{ts.start_port}-{ts.end_port}]"
    return text


@functools.lru_cache(maxsize=256)  # the same few DNS servers on every login: parse once
def _dns_attr(dns: Any) -> tuple[int, bytes]:
    addr = ipaddress.ip_address(dns)
    kind = CfgAttr.INTERNAL_IP4_DNS if addr.version == 4 else CfgAttr.INTERNAL_IP6_DNS
    return kind, addr.packed


def _config_reply(settings: ResponderSettings, sa: IkeSa, progress: AuthProgress
                  ) -> list[Payload]:
    """Answer a CFG_REQUEST: a virtual IPv4 address from the pool and DNS servers."""
    cp = progress.cp
    if cp is None or cp.cfg_type != CfgType.CFG_REQUEST:
        return []
    wanted = {a.attr_type for a in cp.attributes}
    attrs: list[CfgAttribute] = []
    conn = progress.connection
    pool = settings.pools.get(conn.name)
    authz = progress.authorization
    if CfgAttr.INTERNAL_IP4_ADDRESS in wanted and getattr(authz, "virtual_ip", None):
        # Assigned by the AAA server (RADIUS Framed-IP-Address): no pool lease to release.
        sa.virtual_ip = authz.virtual_ip
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, authz.virtual_ip.packed))
    elif CfgAttr.INTERNAL_IP4_ADDRESS in wanted and pool is not None:
        vip = pool.acquire(progress.eap_identity or progress.peer_id_text)
        if vip is None:
            log.warning("%s address pool %s exhausted", sa.log_prefix(), conn.name)
            return [NotifyPayload(NotifyType.INTERNAL_ADDRESS_FAILURE)]
        sa.virtual_ip, sa.pool_name = vip, conn.name
        attrs.append(CfgAttribute(CfgAttr.INTERNAL_IP4_ADDRESS, vip.packed))
    for dns in [*conn.dns, *getattr(authz, "dns", ())]:
        kind, packed = _dns_attr(dns)
        if kind in wanted or sa.virtual_ip is not None:
            attrs.append(CfgAttribute(kind, packed))
    return [CpPayload(CfgType.CFG_REPLY, tuple(attrs))] if attrs else []


def build_child(settings: ResponderSettings, sa: IkeSa, progress: AuthProgress
                ) -> tuple[list[Payload], list[Event]]:
    payloads = _config_reply(settings, sa, progress)
    if progress.sa2 is None or progress.ts_i is None or progress.ts_r is None:
        return payloads, []  # a childless IKE SA (RFC 6023 style)
    if any(isinstance(p, NotifyPayload) for p in payloads):
        return payloads, []  # INTERNAL_ADDRESS_FAILURE: no Child SA (RFC 7296 §3.10.1)
    chosen = choose_esp(settings.esp_proposals, progress.sa2.proposals)
    if chosen is None:
        return payloads + [NotifyPayload(NotifyType.NO_PROPOSAL_CHOSEN)], []
    if sa.virtual_ip is not None:
        vip = sa.virtual_ip.packed  # the /32 selector, without parsing a network string
        ours_i = [TrafficSelector(TsType.IPV4_ADDR_RANGE, 0, 0, 65535, vip, vip)]
    else:
        ours_i = list(progress.ts_i.selectors)
    ts_i = narrow(progress.ts_i.selectors, ours_i)
    ts_r = narrow(progress.ts_r.selectors,
                  [_network_selector(n) for n in progress.connection.local_ts])
    if not ts_i or not ts_r:
        return payloads + [NotifyPayload(NotifyType.TS_UNACCEPTABLE)], []
    spi_in = _random_child_spi()
    keymat = derive_child_keymat(sa.suite.prf, sa.keys.sk_d, sa.ni, sa.nr,
                                 child_keymat_length(chosen.encr, chosen.encr_key_bits,
                                                     chosen.integ))
    child = ChildSa(spi_in, chosen.spi, f"{len(sa.children)}")
    sa.children.append(child)
    event = ChildSaEstablished(
        sa.id, spi_in, chosen.spi, chosen.encr, chosen.encr_key_bits, chosen.integ, keymat,
        tuple(describe(t) for t in ts_i), tuple(describe(t) for t in ts_r), chosen.esn,
        udp_encap=sa.nat_detected)
    log.info("%s CHILD SA %s/%s: %s === %s", sa.log_prefix(), spi_in.hex(), chosen.spi.hex(),
             ", ".join(event.ts_r), ", ".join(event.ts_i))
    payloads += [SaPayload((chosen.payload(ProtocolId.ESP, spi_in),)),
                 TsPayload(True, ts_i), TsPayload(False, ts_r)]
    return payloads, [event]


def _random_child_spi() -> bytes:
    while True:
        spi = os.urandom(4)
        if struct.unpack("!I", spi)[0] >= 256:  # 0-255 are reserved (RFC 4303 §2.1)
            return spi
