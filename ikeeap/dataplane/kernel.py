"""The kernel data plane's bookkeeping, sans-I/O: Child SA events in, XFRM requests out.

For each Child SA (tunnel mode ESP, as strongSwan's kernel-netlink installs it):

- two SAs: inbound (peer → us, our SPI) and outbound (us → peer, the peer's SPI), each with
  its keys, ESP-in-UDP encapsulation when a NAT was detected (sport/dport of that direction),
  the replay window (ESN replay state for ESN or windows above 32) and the lifetimes;
- per pair of selectors (ours × the peer's): an ``out`` policy and ``in`` + ``fwd`` policies,
  tied to the SAs by reqid. A rekeyed Child SA shares its reqid (``ReqIds``), so its
  policies are re-sent with UPDPOLICY (idempotent) and the kernel picks the newer SA; they
  are deleted with the reqid's last Child SA.

Before SAs are deleted their counters are read once more (GETSA), so RADIUS accounting Stop
sees everything that went through. Selectors that are address ranges but no subnet are
widened to the smallest covering subnet, and port ranges other than one port or all ports
to all ports (the kernel's selector holds prefix and port/mask only).
"""

from __future__ import annotations

import errno
import ipaddress
import re
from collections import OrderedDict
from dataclasses import dataclass, field

from .interface import ChildCounters, ChildSaExpiring, ChildSaUp
from .xfrm import (
    XFRM_POLICY_FWD, XFRM_POLICY_IN, XFRM_POLICY_OUT, Expire, PolicySpec, SaSpec, SaState,
    Selector, delpolicy, delsa, family_of, getsa, kernel_algorithms, newpolicy, newsa,
)

_TS = re.compile(r"^(?P<addr>[^\[]+?)(?:\[(?P<proto>\d+)/(?P<lo>\d+)-(?P<hi>\d+)\])?$")


@dataclass(frozen=True, slots=True)
class TrafficSelector:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    proto: int = 0
    start_port: int = 0
    end_port: int = 65535

    @property
    def port_and_mask(self) -> tuple[int, int]:
        if self.start_port == self.end_port:
            return self.start_port, 0xFFFF
        return 0, 0


def parse_ts(text: str) -> TrafficSelector:
    """"10.0.0.0/24", "10.0.0.1-10.0.0.9", either followed by "[proto/start-end]"
    (``ike.child.describe``); a range becomes its smallest covering subnet."""
    m = _TS.match(text.strip())
    if m is None:
        raise ValueError(f"traffic selector {text!r}")
    addr = m.group("addr")
    if "-" in addr:
        lo_text, hi_text = addr.split("-", 1)
        lo, hi = ipaddress.ip_address(lo_text), ipaddress.ip_address(hi_text)
        if lo.version != hi.version or lo > hi:
            raise ValueError(f"traffic selector {text!r}")
        bits = lo.max_prefixlen
        diff = int(lo) ^ int(hi)
        prefix = bits - diff.bit_length()
        net = ipaddress.ip_network(f"{lo}/{prefix}", strict=False)
    else:
        net = ipaddress.ip_network(addr, strict=False)
    if m.group("proto") is None:
        return TrafficSelector(net)
    return TrafficSelector(net, int(m.group("proto")), int(m.group("lo")), int(m.group("hi")))


def selector(src: TrafficSelector, dst: TrafficSelector) -> Selector:
    sport, smask = src.port_and_mask
    dport, dmask = dst.port_and_mask
    return Selector(family_of(str(src.network.network_address)),
                    daddr=str(dst.network.network_address), prefixlen_d=dst.network.prefixlen,
                    saddr=str(src.network.network_address), prefixlen_s=src.network.prefixlen,
                    proto=src.proto or dst.proto, dport=dport, dport_mask=dmask, sport=sport,
                    sport_mask=smask)


@dataclass(frozen=True, slots=True)
class Request:
    """One netlink request and the errors that only mean "already so"."""

    data: bytes = field(repr=False)
    what: str
    ignore: frozenset[int] = frozenset()
    reads: tuple[str, bytes] | None = None  # (sa_id, spi): a GETSA whose reply holds counters


@dataclass
class _Child:
    sa_id: str
    reqid: int
    spi_in: bytes
    spi_out: bytes
    local: str
    remote: str
    if_id: int
    policies: list[tuple[Selector, int]]
    expired: set[bool] = field(default_factory=set)


_GONE = frozenset({errno.ENOENT, errno.ESRCH})


class KernelPlan:
    def __init__(self, keep_gone: int = 4096) -> None:
        self._seq = 0
        self._children: dict[bytes, _Child] = {}  # by spi_in
        self._by_out: dict[bytes, bytes] = {}  # spi_out -> spi_in
        self._reqid_users: dict[int, set[bytes]] = {}
        self._spi_owner: dict[bytes, tuple[str, str]] = {}  # spi -> (sa_id, "in"/"out")
        self._read: dict[bytes, tuple[int, int]] = {}  # spi -> (bytes, packets) last read
        self._gone_totals: OrderedDict[str, ChildCounters] = OrderedDict()
        self._keep_gone = keep_gone

    def _next(self) -> int:
        self._seq = self._seq % 0xFFFFFFFF + 1
        return self._seq

    # ---- events --------------------------------------------------------------------------

    def up(self, c: ChildSaUp) -> list[Request]:
        keys = c.keys()
        algorithms = kernel_algorithms(c.encr, c.integ)
        lt = c.lifetimes
        local, remote = c.local[0], c.remote[0]
        common = dict(reqid=c.reqid, algorithms=algorithms, replay_window=c.replay_window,
                      esn=c.esn, if_id=c.if_id, soft_seconds=lt.soft_seconds,
                      hard_seconds=lt.hard_seconds, soft_bytes=lt.soft_bytes,
                      hard_bytes=lt.hard_bytes, soft_packets=lt.soft_packets,
                      hard_packets=lt.hard_packets)
        sa_in = SaSpec(remote, local, c.spi_in, encr_key=keys.encr_in, integ_key=keys.integ_in,
                       encap=(c.remote[1], c.local[1]) if c.udp_encap else None,
                       **common)  # type: ignore[arg-type]
        sa_out = SaSpec(local, remote, c.spi_out, encr_key=keys.encr_out,
                        integ_key=keys.integ_out,
                        encap=(c.local[1], c.remote[1]) if c.udp_encap else None,
                        **common)  # type: ignore[arg-type]
        policies: list[tuple[Selector, int]] = []
        out: list[Request] = [
            Request(newsa(self._next(), sa_in), f"SA in {c.spi_in.hex()}"),
            Request(newsa(self._next(), sa_out), f"SA out {c.spi_out.hex()}"),
        ]
        for lt_text in c.ts_local:
            ours = parse_ts(lt_text)
            for rt_text in c.ts_remote:
                theirs = parse_ts(rt_text)
                if ours.network.version != theirs.network.version:
                    continue
                sel_out, sel_in = selector(ours, theirs), selector(theirs, ours)
                for sel, direction, src, dst in ((sel_out, XFRM_POLICY_OUT, local, remote),
                                                 (sel_in, XFRM_POLICY_IN, remote, local),
                                                 (sel_in, XFRM_POLICY_FWD, remote, local)):
                    policies.append((sel, direction))
                    out.append(Request(
                        newpolicy(self._next(), PolicySpec(sel, direction, src, dst, c.reqid,
                                                           if_id=c.if_id)),
                        f"policy {_DIR[direction]} {lt_text} === {rt_text}"))
        self._children[c.spi_in] = _Child(c.sa_id, c.reqid, c.spi_in, c.spi_out, local, remote,
                                          c.if_id, policies)
        self._by_out[c.spi_out] = c.spi_in
        self._reqid_users.setdefault(c.reqid, set()).add(c.spi_in)
        self._spi_owner[c.spi_in] = (c.sa_id, "in")
        self._spi_owner[c.spi_out] = (c.sa_id, "out")
        return out

    def down(self, spi_in: bytes) -> list[Request]:
        child = self._children.pop(spi_in, None)
        if child is None:
            return []
        self._by_out.pop(child.spi_out, None)
        out = self.read_child(child) + [
            Request(delsa(self._next(), child.local, child.spi_in, child.if_id),
                    f"delete SA in {child.spi_in.hex()}", _GONE),
            Request(delsa(self._next(), child.remote, child.spi_out, child.if_id),
                    f"delete SA out {child.spi_out.hex()}", _GONE),
        ]
        users = self._reqid_users.get(child.reqid, set())
        users.discard(spi_in)
        if not users:
            self._reqid_users.pop(child.reqid, None)
            for sel, direction in child.policies:
                out.append(Request(delpolicy(self._next(), sel, direction, child.if_id),
                                   f"delete policy {_DIR[direction]} reqid {child.reqid}",
                                   _GONE))
        return out

    def retire_counters(self, spi_in: bytes, spi_out: bytes) -> None:
        """After a deleted Child SA's last read: fold its counters into its IKE SA's."""
        owner = self._spi_owner.get(spi_in)
        if owner is None:
            return
        sa_id = owner[0]
        gone = self._counters_of(spi_in, spi_out)
        self._gone_totals[sa_id] = self._gone_totals.get(sa_id, ChildCounters()) + gone
        self._gone_totals.move_to_end(sa_id)
        while len(self._gone_totals) > self._keep_gone:
            self._gone_totals.popitem(last=False)
        for spi in (spi_in, spi_out):
            self._spi_owner.pop(spi, None)
            self._read.pop(spi, None)

    def ike_gone(self, sa_id: str) -> tuple[list[Request], list[tuple[bytes, bytes]]]:
        """Every request to remove the IKE SA's Child SAs, and their (spi_in, spi_out)."""
        out: list[Request] = []
        pairs = []
        for spi_in in [s for s, c in self._children.items() if c.sa_id == sa_id]:
            pairs.append((spi_in, self._children[spi_in].spi_out))
            out += self.down(spi_in)
        return out, pairs

    def ike_rekeyed(self, old: str, new: str) -> None:
        for child in self._children.values():
            if child.sa_id == old:
                child.sa_id = new
        for spi, (sa_id, d) in list(self._spi_owner.items()):
            if sa_id == old:
                self._spi_owner[spi] = (new, d)
        if old in self._gone_totals:
            self._gone_totals[new] = self._gone_totals.pop(old)

    # ---- counters ------------------------------------------------------------------------

    def read_child(self, child: _Child) -> list[Request]:
        return [Request(getsa(self._next(), child.local, child.spi_in), "read SA in",
                        _GONE, (child.sa_id, child.spi_in)),
                Request(getsa(self._next(), child.remote, child.spi_out), "read SA out",
                        _GONE, (child.sa_id, child.spi_out))]

    def read_requests(self, sa_id: str | None = None) -> list[Request]:
        """GETSA for every live SA (of one IKE SA, or all)."""
        out: list[Request] = []
        for child in self._children.values():
            if sa_id is None or child.sa_id == sa_id:
                out += self.read_child(child)
        return out

    def absorb(self, state: SaState) -> None:
        """A GETSA reply (or any SA state read back): remember its counters."""
        if state.spi in self._spi_owner:
            cur = state.counters
            self._read[state.spi] = (cur.bytes, cur.packets)

    def _counters_of(self, spi_in: bytes, spi_out: bytes) -> ChildCounters:
        b_in, p_in = self._read.get(spi_in, (0, 0))
        b_out, p_out = self._read.get(spi_out, (0, 0))
        return ChildCounters(b_in, b_out, p_in, p_out)

    def counters(self, sa_id: str) -> ChildCounters:
        total = self._gone_totals.get(sa_id, ChildCounters())
        for child in self._children.values():
            if child.sa_id == sa_id:
                total = total + self._counters_of(child.spi_in, child.spi_out)
        return total

    # ---- kernel events -------------------------------------------------------------------

    def expire(self, event: Expire) -> ChildSaExpiring | None:
        """A kernel expire → the notice for the responder (once per Child SA and kind)."""
        spi = event.state.spi
        spi_in = spi if spi in self._children else self._by_out.get(spi)
        child = self._children.get(spi_in) if spi_in is not None else None
        if child is None or event.hard in child.expired:
            return None
        child.expired.add(event.hard)
        direction = "inbound" if spi == child.spi_in else "outbound"
        kind = "hard" if event.hard else "soft"
        return ChildSaExpiring(child.sa_id, child.spi_in, event.hard,
                               f"{kind} lifetime of the {direction} SA {spi.hex()} reached")

    def spi_out_of(self, spi_in: bytes) -> bytes | None:
        child = self._children.get(spi_in)
        return child.spi_out if child is not None else None

    def live_sa_ids(self) -> set[str]:
        return {c.sa_id for c in self._children.values()}

    def children_of(self, sa_id: str) -> list[bytes]:
        return [s for s, c in self._children.items() if c.sa_id == sa_id]


_DIR = {XFRM_POLICY_IN: "in", XFRM_POLICY_OUT: "out", XFRM_POLICY_FWD: "fwd"}
