"""The kernel probe with a fake netlink socket: no XFRM, XFRM without ESP (the kernel's
"Requested type not found"), a missing algorithm, not permitted, and ESP that works."""

from __future__ import annotations

import errno
import struct

from ikeeap.dataplane import settings as s
from ikeeap.dataplane.netlink import (
    NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_DONE, NLMSG_ERROR, attr, message, parse_messages,
)
from ikeeap.dataplane.probe import PROBE_DST, run_probe, socket_failed
from ikeeap.dataplane.xfrm import XFRM_MSG_DELSA, XFRM_MSG_GETSA, XFRM_MSG_NEWSA, parse_attrs


def _answer(request: bytes, err: int, text: str | None = None):
    req = parse_messages(request)[0]
    flags = NLM_F_CAPPED | (NLM_F_ACK_TLVS if text else 0)
    body = struct.pack("=i", -err) + request[:16]
    if text:
        body += attr(1, text.encode() + b"\0")
    return parse_messages(message(NLMSG_ERROR, flags, req.seq, body))


class FakeKernel:
    """Answers like a kernel: ``newsa(request) -> (errno, extack text)``."""

    def __init__(self, dump_errno=0, newsa=lambda names: (0, None)):
        self.dump_errno = dump_errno
        self.newsa = newsa
        self.sent: list[int] = []
        self.deleted: list[bytes] = []

    def __call__(self, request: bytes):
        m = parse_messages(request)[0]
        self.sent.append(m.type)
        if m.type == XFRM_MSG_GETSA:
            if self.dump_errno:
                return _answer(request, self.dump_errno)
            return parse_messages(message(NLMSG_DONE, 2, m.seq, b"\0\0\0\0"))
        if m.type == XFRM_MSG_NEWSA:
            attrs = parse_attrs(m.payload[224:])
            names = {v[:64].rstrip(b"\0").decode() for v in attrs.values() if len(v) >= 68}
            return _answer(request, *self.newsa(names))
        if m.type == XFRM_MSG_DELSA:
            self.deleted.append(m.payload[16:20])
            return _answer(request, 0)
        raise AssertionError(m.type)


def test_no_xfrm_socket():
    probe = socket_failed(OSError(errno.EPROTONOSUPPORT, "Protocol not supported"))
    assert probe.support == s.NO_XFRM
    assert probe.detail == ("socket(AF_NETLINK, NETLINK_XFRM) failed: Protocol not supported "
                            "(EPROTONOSUPPORT): no CONFIG_XFRM_USER")
    assert socket_failed(OSError(errno.EPERM, "x")).support == s.NOT_PERMITTED
    assert socket_failed(OSError(errno.EMFILE, "x")).support == s.FAILED


def test_dump_refused():
    assert run_probe(FakeKernel(dump_errno=errno.EPERM)).support == s.NOT_PERMITTED
    probe = run_probe(FakeKernel(dump_errno=errno.EOPNOTSUPP))
    assert probe.support == s.NO_XFRM and probe.detail.startswith("an XFRM SA dump failed: ")


def test_xfrm_without_esp_as_this_kind_of_kernel_answers():
    # this machine's kernel: no gcm ("Requested AEAD algorithm not found", ENOSYS, looked up
    # before the type), cbc(aes) found, then no ESP type (EPROTONOSUPPORT)
    def newsa(names):
        if "rfc4106(gcm(aes))" in names or "rfc7539esp(chacha20,poly1305)" in names:
            return errno.ENOSYS, "Requested AEAD algorithm not found"
        return errno.EPROTONOSUPPORT, "Requested type not found"
    kernel = FakeKernel(newsa=newsa)
    probe = run_probe(kernel)
    assert probe.support == s.NO_ESP and not probe.usable
    assert probe.detail == ('adding an ESP SA failed: Protocol not supported (EPROTONOSUPPORT; '
                            'kernel: "Requested type not found"): no esp4/esp6 '
                            '(CONFIG_INET_ESP, CONFIG_INET6_ESP)')
    assert kernel.sent == [XFRM_MSG_GETSA, XFRM_MSG_NEWSA, XFRM_MSG_NEWSA, XFRM_MSG_NEWSA]
    assert kernel.deleted == []
    assert "but no ESP" in s.choose_mode("auto", probe).sentence


def test_esp_with_some_algorithms_missing():
    kernel = FakeKernel(newsa=lambda names: (errno.ENOSYS, "Requested AEAD algorithm not found")
                        if "rfc7539esp(chacha20,poly1305)" in names else (0, None))
    probe = run_probe(kernel)
    assert probe.usable
    assert probe.detail == "probe ESP SAs accepted for aes128gcm16, aes128-sha256, aes128-sha1"
    assert probe.algorithms == {"rfc4106(gcm(aes))", "cbc(aes)", "hmac(sha256)", "hmac(sha1)"}
    assert probe.missing == {"rfc7539esp(chacha20,poly1305)"}
    # every accepted probe SA was deleted again, SPIs from the reserved range
    assert kernel.deleted == [b"\0\0\0\xf0", b"\0\0\0\xf2", b"\0\0\0\xf3"]
    assert s.choose_mode("kernel", probe).mode == "kernel"


def test_probe_sa_uses_test_net_addresses_and_a_hard_lifetime():
    seen = []

    def transact(request):
        m = parse_messages(request)[0]
        if m.type == XFRM_MSG_NEWSA:
            seen.append(m.payload)
        return FakeKernel()(request)
    run_probe(transact)
    first = seen[0]
    assert first[56:60] == bytes(int(o) for o in PROBE_DST.split("."))
    assert first[136:144] == (30).to_bytes(8, "little")  # hard_add_expires_seconds


def test_no_algorithm_accepted_and_other_failures():
    probe = run_probe(FakeKernel(newsa=lambda n: (errno.ENOSYS, None)))
    assert probe.support == s.NO_ALGORITHMS and "missing: " in probe.detail
    assert run_probe(FakeKernel(newsa=lambda n: (errno.EPERM, None))).support == s.NOT_PERMITTED
    assert run_probe(FakeKernel(newsa=lambda n: (errno.EINVAL, "x"))).support == s.FAILED
    assert run_probe(FakeKernel(newsa=lambda n: (errno.EEXIST, None))).usable

    def broken(request):
        raise OSError(errno.EIO, "I/O error")
    assert run_probe(broken).support == s.FAILED
