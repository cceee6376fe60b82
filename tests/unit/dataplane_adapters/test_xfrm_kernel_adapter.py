"""KernelDataPlane with a fake NETLINK_XFRM socket: requests run on the pool thread in order,
results come back through the reactor, refusals become ChildSaFailed, expires become
ChildSaExpiring, counters are read back; the probe and the mode choice through the adapter."""

from __future__ import annotations

import errno
import queue
import struct
import threading

import pytest

from ikeeap.dataplane import xfrm as x
from ikeeap.dataplane.interface import (
    ChildCounters, ChildSaDown, ChildSaExpiring, ChildSaFailed, ChildSaUp, Lifetimes,
)
from ikeeap.dataplane.netlink import (
    NLM_F_CAPPED, NLMSG_DONE, NLMSG_ERROR, message, parse_messages,
)
from ikeeap.dataplane.settings import NO_ESP, NO_XFRM, DataPlaneUnavailable
from ikeeap.server.blocking import BlockingPool
from ikeeap.server.xfrm_kernel import KernelDataPlane, kernel_choice, probe_kernel
from ikeeap.wire.constants import EncrId, IntegId


class QueueReactor:
    def __init__(self) -> None:
        self.calls: queue.Queue = queue.Queue()
        self.readers: list = []

    def callFromThread(self, fn, *args, **kw):  # noqa: N802
        self.calls.put((fn, args, kw))

    def addSystemEventTrigger(self, *args):  # noqa: N802
        return None

    def addReader(self, reader):  # noqa: N802
        self.readers.append(reader)

    def removeReader(self, reader):  # noqa: N802
        self.readers.remove(reader)

    def run_one(self) -> None:
        fn, args, kw = self.calls.get(timeout=5)
        fn(*args, **kw)


def _ack(seq, err=0):
    body = struct.pack("=i", -err) + struct.pack("=IHHII", 16, 0, 0, seq, 0)
    return parse_messages(message(NLMSG_ERROR, NLM_F_CAPPED, seq, body))


class FakeSocket:
    """Records requests (and the thread they came on); answers ACK, or ``refuse`` errno."""

    instances: list["FakeSocket"] = []

    def __init__(self, groups: int = 0) -> None:
        self.groups = groups
        self.requests: list = []
        self.threads: set[str] = set()
        self.refuse: dict[int, int] = {}  # message type -> errno
        self.counters: dict[bytes, tuple[int, int]] = {}
        self.closed = False
        FakeSocket.instances.append(self)

    def transact(self, data: bytes):
        m = parse_messages(data)[0]
        self.requests.append(m)
        self.threads.add(threading.current_thread().name)
        if m.type in self.refuse:
            return _ack(m.seq, self.refuse[m.type])
        if m.type == x.XFRM_MSG_GETSA:
            spi, dst = m.payload[16:20], str(x._address_text(m.payload[:16], 2))
            nbytes, packets = self.counters.get(spi, (0, 0))
            b = bytearray(224)
            b[40:42] = b"\x02\x00"
            b[56:72] = x.xfrm_address(dst)
            b[72:76] = spi
            b[76] = 50
            struct.pack_into("<QQ", b, 160, nbytes, packets)
            struct.pack_into("<H", b, 212, 2)
            return parse_messages(message(x.XFRM_MSG_NEWSA, 0, m.seq, bytes(b)))
        return _ack(m.seq)

    def fileno(self):
        return -1

    def close(self):
        self.closed = True


def _child(**kw):
    base = dict(sa_id="sa1", unique_id=1, reqid=3, spi_in=b"\x11" * 4, spi_out=b"\x22" * 4,
                encr=EncrId.AES_GCM_16, encr_key_bits=128, integ=IntegId.NONE,
                keymat=b"k" * 40, local=("192.0.2.1", 4500), remote=("198.51.100.9", 4500),
                ts_local=("0.0.0.0/0",), ts_remote=("10.3.0.7/32",), udp_encap=True,
                lifetimes=Lifetimes(60, 90))
    base.update(kw)
    return ChildSaUp(**base)


@pytest.fixture
def plane():
    FakeSocket.instances = []
    reactor = QueueReactor()
    notices: list = []
    pool = BlockingPool(reactor, "xfrm-test", threads=1)

    class Sock(FakeSocket):
        def __init__(self, groups=0):
            super().__init__(groups)
            self.sock = self  # the expire reader's .sock.setblocking/recv

        def setblocking(self, flag):
            self.blocking = flag

    p = KernelDataPlane(reactor, notices.append, socket_factory=Sock, pool=pool)
    p.test_reactor, p.test_notices = reactor, notices
    yield p
    pool.stop()


def test_install_runs_off_the_reactor_thread_in_order(plane):
    main, expires = FakeSocket.instances
    assert expires.groups == 2 and plane.test_reactor.readers  # XFRMNLGRP_EXPIRE bit
    plane.child_up(_child())
    plane.child_down(ChildSaDown("sa1", b"\x11" * 4, b"\x22" * 4))
    plane.test_reactor.run_one()
    plane.test_reactor.run_one()
    types = [m.type for m in main.requests]
    assert types == [x.XFRM_MSG_NEWSA] * 2 + [x.XFRM_MSG_UPDPOLICY] * 3 + \
        [x.XFRM_MSG_GETSA] * 2 + [x.XFRM_MSG_DELSA] * 2 + [x.XFRM_MSG_DELPOLICY] * 3
    assert threading.main_thread().name not in main.threads
    assert plane.test_notices == []


def test_a_refused_install_is_reported(plane):
    main = FakeSocket.instances[0]
    main.refuse[x.XFRM_MSG_NEWSA] = errno.EPROTONOSUPPORT
    plane.child_up(_child())
    plane.test_reactor.run_one()
    (notice,) = plane.test_notices
    assert isinstance(notice, ChildSaFailed) and notice.spi_in == b"\x11" * 4
    assert notice.reason.startswith("SA in 11111111: Protocol not supported (EPROTONOSUPPORT)")


def test_an_unmappable_transform_fails_at_once(plane):
    plane.child_up(_child(encr=EncrId.AES_CBC, integ=IntegId.NONE, keymat=b"k" * 32))
    assert isinstance(plane.test_notices[0], ChildSaFailed)


def test_counters_refresh_and_survive_the_ike_sa(plane):
    main = FakeSocket.instances[0]
    main.counters = {b"\x11" * 4: (4000, 40), b"\x22" * 4: (9000, 90)}
    plane.child_up(_child())
    plane.test_reactor.run_one()
    plane.refresh("sa1")
    plane.test_reactor.run_one()
    assert plane.counters("sa1") == ChildCounters(4000, 9000, 40, 90)
    main.counters = {b"\x11" * 4: (5000, 50), b"\x22" * 4: (9500, 95)}
    plane.ike_gone("sa1")
    plane.test_reactor.run_one()
    assert plane.counters("sa1") == ChildCounters(5000, 9500, 50, 95)  # read before delete


def test_kernel_expire_becomes_a_notice(plane):
    plane.child_up(_child())
    plane.test_reactor.run_one()
    b = bytearray(232)
    b[40:42] = b"\x02\x00"
    b[56:72] = x.xfrm_address("192.0.2.1")
    b[72:76] = b"\x11" * 4
    b[76] = 50
    struct.pack_into("<H", b, 212, 2)
    b[224] = 0
    expires = FakeSocket.instances[1]
    datagrams = [message(x.XFRM_MSG_EXPIRE, 0, 0, bytes(b))]

    def recv(size):
        if datagrams:
            return datagrams.pop()
        raise BlockingIOError
    expires.recv = recv
    plane.test_reactor.readers[0].doRead()
    (notice,) = plane.test_notices
    assert notice == ChildSaExpiring("sa1", b"\x11" * 4, False,
                                     "soft lifetime of the inbound SA 11111111 reached")


def test_close_removes_everything_and_the_reader(plane):
    main = FakeSocket.instances[0]
    plane.child_up(_child())
    plane.test_reactor.run_one()
    plane.close()
    assert plane.test_reactor.readers == [] and main.closed
    assert [m.type for m in main.requests][-3:] == [x.XFRM_MSG_DELPOLICY] * 3


def test_probe_through_the_adapter_with_a_fake_kernel():
    class NoEsp(FakeSocket):
        def transact(self, data):
            m = parse_messages(data)[0]
            if m.type == x.XFRM_MSG_GETSA:
                return parse_messages(message(NLMSG_DONE, 2, m.seq, b"\0" * 4))
            if m.type == x.XFRM_MSG_NEWSA:
                return _ack(m.seq, errno.EPROTONOSUPPORT)
            return _ack(m.seq)
    probe = probe_kernel(NoEsp)
    assert probe.support == NO_ESP

    def no_socket():
        raise OSError(errno.EPROTONOSUPPORT, "Protocol not supported")
    assert probe_kernel(no_socket).support == NO_XFRM
    with pytest.raises(DataPlaneUnavailable, match="the kernel has XFRM but no ESP"):
        kernel_choice("kernel", lambda: probe)
    assert kernel_choice("auto", lambda: probe).mode == "userspace"
    assert kernel_choice("none", lambda: pytest.fail("no probe for none")).mode == "none"
