"""The kernel capability probe, sans-I/O: which requests to send and what the answers mean.

``run_probe(transact)`` drives it; ``transact(request) -> list[NetlinkMessage]`` sends one
netlink request and returns what came back up to its ACK, error or NLMSG_DONE (the adapter,
ikeeap/server/xfrm_kernel.py, does that on a NETLINK_XFRM socket; tests pass a fake).

What tells the cases apart:

- no NETLINK_XFRM socket at all (``socket()`` fails, EPROTONOSUPPORT): the kernel has no XFRM
  user interface (CONFIG_XFRM_USER), see :func:`socket_failed`;
- an SA dump (XFRM_MSG_GETSA, NLM_F_DUMP) that fails: no usable XFRM (EPERM: not permitted);
- adding an ESP SA: the kernel looks the algorithms up first (ENOSYS, "Requested AEAD
  algorithm not found": that algorithm is missing, the next is tried), then the ESP type
  (EPROTONOSUPPORT, "Requested type not found": XFRM without ESP, no esp4/esp6).

Probe SAs use TEST-NET-1 addresses (RFC 5737) and SPIs from the IANA-reserved 1-255 range
(RFC 4303 §2.1), so they never meet a real SA; each is deleted at once and also carries a
30-second hard lifetime should the delete not happen.
"""

from __future__ import annotations

import errno
from typing import Callable

from ..wire.constants import EncrId, IntegId
from . import settings as s
from .netlink import NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkMessage, \
    message, parse_error
from .xfrm import SaSpec, XFRM_MSG_GETSA, delsa, kernel_algorithms, newsa

Transact = Callable[[bytes], list[NetlinkMessage]]

PROBE_SRC, PROBE_DST = "192.0.2.1", "192.0.2.2"
# (label, ENCR, INTEG, encryption keymat octets incl. salt, integrity key octets)
PROBE_TRANSFORMS = (
    ("aes128gcm16", EncrId.AES_GCM_16, IntegId.NONE, 20, 0),
    ("chacha20poly1305", EncrId.CHACHA20_POLY1305, IntegId.NONE, 36, 0),
    ("aes128-sha256", EncrId.AES_CBC, IntegId.HMAC_SHA2_256_128, 16, 32),
    ("aes128-sha1", EncrId.AES_CBC, IntegId.HMAC_SHA1_96, 16, 20),
)


def socket_failed(exc: OSError) -> s.KernelProbe:
    """The probe's answer when the NETLINK_XFRM socket cannot even be opened."""
    reason = errno.errorcode.get(exc.errno or 0, str(exc.errno))
    text = f"socket(AF_NETLINK, NETLINK_XFRM) failed: {exc.strerror or exc} ({reason})"
    if exc.errno in (errno.EPROTONOSUPPORT, errno.EAFNOSUPPORT):
        return s.KernelProbe(s.NO_XFRM, text + ": no CONFIG_XFRM_USER")
    if exc.errno in (errno.EPERM, errno.EACCES):
        return s.KernelProbe(s.NOT_PERMITTED, text)
    return s.KernelProbe(s.FAILED, text)


def _error_of(replies: list[NetlinkMessage]):
    for m in replies:
        if m.type == NLMSG_ERROR:
            return parse_error(m)
    return None


def run_probe(transact: Transact) -> s.KernelProbe:
    seq = 1
    try:
        replies = transact(message(XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_DUMP, seq,
                                   b"\0" * 24))
    except OSError as exc:
        return s.KernelProbe(s.FAILED, f"an XFRM SA dump failed: {exc}")
    err = _error_of(replies)
    if err is not None and not err.ack:
        if err.errno == errno.EPERM:
            return s.KernelProbe(s.NOT_PERMITTED, f"an XFRM SA dump failed: {err.describe()}")
        return s.KernelProbe(s.NO_XFRM, f"an XFRM SA dump failed: {err.describe()}")
    if not any(m.type == NLMSG_DONE for m in replies) and err is None:
        return s.KernelProbe(s.FAILED, "an XFRM SA dump ended without NLMSG_DONE")

    accepted: set[str] = set()
    missing: dict[str, str] = {}
    passed: list[str] = []
    for i, (label, encr, integ, elen, alen) in enumerate(PROBE_TRANSFORMS):
        algorithms = kernel_algorithms(encr, integ)
        spi = (0xF0 + i).to_bytes(4, "big")
        sa = SaSpec(PROBE_SRC, PROBE_DST, spi, reqid=0, algorithms=algorithms,
                    encr_key=bytes(range(1, elen + 1)), integ_key=bytes(range(1, alen + 1)),
                    replay_window=32, hard_seconds=30)
        seq += 1
        try:
            err = _error_of(transact(newsa(seq, sa)))
        except OSError as exc:
            return s.KernelProbe(s.FAILED, f"adding an ESP SA failed: {exc}")
        if err is None:
            return s.KernelProbe(s.FAILED, "adding an ESP SA brought no answer")
        if err.ack:
            passed.append(label)
            accepted.update(algorithms.names)
            seq += 1
            try:
                transact(delsa(seq, PROBE_DST, spi))
            except OSError:
                pass  # the 30-second hard lifetime removes it
            continue
        if err.errno == errno.EPROTONOSUPPORT:
            return s.KernelProbe(s.NO_ESP, f"adding an ESP SA failed: {err.describe()}: no "
                                           f"esp4/esp6 (CONFIG_INET_ESP, CONFIG_INET6_ESP)")
        if err.errno == errno.EPERM:
            return s.KernelProbe(s.NOT_PERMITTED, f"adding an ESP SA failed: {err.describe()}")
        if err.errno in (errno.ENOSYS, errno.ENOENT):
            for name in algorithms.names:
                missing.setdefault(name, err.describe())
            continue
        if err.errno == errno.EEXIST:  # a probe SA left over seconds ago: ESP works
            passed.append(label)
            accepted.update(algorithms.names)
            continue
        return s.KernelProbe(s.FAILED, f"adding an ESP SA ({label}) failed: {err.describe()}")
    gone = frozenset(n for n in missing if n not in accepted)
    if not passed:
        first = next(iter(missing.values()), "no answer")
        return s.KernelProbe(s.NO_ALGORITHMS, f"no probe ESP SA was accepted ({first}); "
                                              f"missing: {', '.join(sorted(gone))}",
                             missing=gone)
    return s.KernelProbe(s.ESP, f"probe ESP SAs accepted for {', '.join(passed)}",
                         frozenset(accepted), gone)
