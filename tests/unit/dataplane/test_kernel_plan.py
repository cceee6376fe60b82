"""KernelPlan: a Child SA becomes two SAs and out/in/fwd policies; a rekey with the same
reqid keeps the policies; deletes read counters first; kernel expires become notices."""

from __future__ import annotations

import errno

from ikeeap.dataplane import xfrm as x
from ikeeap.dataplane.interface import ChildCounters, ChildSaUp, Lifetimes
from ikeeap.dataplane.kernel import KernelPlan, parse_ts, selector
from ikeeap.dataplane.netlink import parse_attrs, parse_messages
from ikeeap.wire.constants import EncrId, IntegId

LOCAL, REMOTE = ("192.0.2.1", 4500), ("198.51.100.9", 61000)


def _child(spi_in=b"\x11" * 4, spi_out=b"\x22" * 4, reqid=5, sa_id="sa1", **kw):
    base = dict(sa_id=sa_id, unique_id=1, reqid=reqid, spi_in=spi_in, spi_out=spi_out,
                encr=EncrId.AES_CBC, encr_key_bits=128, integ=IntegId.HMAC_SHA2_256_128,
                keymat=b"a" * 16 + b"b" * 32 + b"c" * 16 + b"d" * 32, local=LOCAL,
                remote=REMOTE, ts_local=("0.0.0.0/0",), ts_remote=("10.3.0.7/32",),
                udp_encap=True, lifetimes=Lifetimes(3600, 3960), replay_window=64)
    base.update(kw)
    return ChildSaUp(**base)


def _decode(req):
    return parse_messages(req.data)[0]


def test_parse_ts_forms():
    assert str(parse_ts("10.0.0.0/24").network) == "10.0.0.0/24"
    assert str(parse_ts("10.0.0.1-10.0.0.9").network) == "10.0.0.0/28"  # widened
    ts = parse_ts("0.0.0.0/0[6/80-80]")
    assert (ts.proto, ts.port_and_mask) == (6, (80, 0xFFFF))
    assert parse_ts("0.0.0.0/0[17/1000-2000]").port_and_mask == (0, 0)
    assert str(parse_ts("2001:db8::/64").network) == "2001:db8::/64"
    sel = selector(parse_ts("0.0.0.0/0"), parse_ts("10.3.0.7/32[6/443-443]"))
    assert (sel.saddr, sel.prefixlen_s, sel.daddr, sel.prefixlen_d, sel.proto, sel.dport,
            sel.dport_mask) == ("0.0.0.0", 0, "10.3.0.7", 32, 6, 443, 0xFFFF)


def test_child_up_installs_both_sas_with_encap_and_three_policies():
    plan = KernelPlan()
    reqs = plan.up(_child())
    msgs = [_decode(r) for r in reqs]
    assert [m.type for m in msgs] == [x.XFRM_MSG_NEWSA, x.XFRM_MSG_NEWSA] + \
        [x.XFRM_MSG_UPDPOLICY] * 3
    assert len({m.seq for m in msgs}) == 5
    sa_in, sa_out = msgs[0].payload, msgs[1].payload
    # inbound: peer -> us, our SPI, keys i->r, encap sport = peer's port, dport = ours
    assert sa_in[56:60] == bytes([192, 0, 2, 1]) and sa_in[72:76] == b"\x11" * 4
    assert sa_in[80:84] == bytes([198, 51, 100, 9])
    attrs_in = parse_attrs(sa_in[224:])
    assert attrs_in[x.XFRMA_ALG_CRYPT] == x.algo("cbc(aes)", b"a" * 16)
    assert attrs_in[x.XFRMA_ALG_AUTH_TRUNC] == x.algo_auth("hmac(sha256)", b"b" * 32, 128)
    assert attrs_in[x.XFRMA_ENCAP] == x.encap_tmpl(61000, 4500)
    assert attrs_in[x.XFRMA_REPLAY_ESN_VAL] == x.replay_esn(64)
    assert sa_in[128:144] == (3600).to_bytes(8, "little") + (3960).to_bytes(8, "little")
    attrs_out = parse_attrs(sa_out[224:])
    assert sa_out[72:76] == b"\x22" * 4 and sa_out[56:60] == bytes([198, 51, 100, 9])
    assert attrs_out[x.XFRMA_ALG_CRYPT] == x.algo("cbc(aes)", b"c" * 16)
    assert attrs_out[x.XFRMA_ENCAP] == x.encap_tmpl(4500, 61000)
    dirs = [m.payload[160] for m in msgs[2:]]
    assert dirs == [x.XFRM_POLICY_OUT, x.XFRM_POLICY_IN, x.XFRM_POLICY_FWD]
    out_sel = x.Selector.decode(msgs[2].payload[:56])
    assert (out_sel.saddr, out_sel.prefixlen_s, out_sel.daddr, out_sel.prefixlen_d) == (
        "0.0.0.0", 0, "10.3.0.7", 32)
    tmpl_out = parse_attrs(msgs[2].payload[168:])[x.XFRMA_TMPL]
    assert tmpl_out == x.user_tmpl("192.0.2.1", "198.51.100.9", 5)
    tmpl_in = parse_attrs(msgs[3].payload[168:])[x.XFRMA_TMPL]
    assert tmpl_in == x.user_tmpl("198.51.100.9", "192.0.2.1", 5)


def test_no_encap_without_nat_and_mixed_families_skipped():
    plan = KernelPlan()
    reqs = plan.up(_child(udp_encap=False, ts_local=("0.0.0.0/0", "::/0"),
                          ts_remote=("10.3.0.7/32", "2001:db8::7/128")))
    assert x.XFRMA_ENCAP not in parse_attrs(_decode(reqs[0]).payload[224:])
    assert len(reqs) == 2 + 3 * 2  # v4 x v4 and v6 x v6 only


def test_rekey_keeps_policies_until_the_reqids_last_child_goes():
    plan = KernelPlan()
    plan.up(_child())
    plan.up(_child(spi_in=b"\x33" * 4, spi_out=b"\x44" * 4))  # rekey, same reqid
    first_down = [_decode(r).type for r in plan.down(b"\x11" * 4)]
    assert first_down == [x.XFRM_MSG_GETSA, x.XFRM_MSG_GETSA, x.XFRM_MSG_DELSA,
                          x.XFRM_MSG_DELSA]
    last = plan.down(b"\x33" * 4)
    assert [_decode(r).type for r in last] == [x.XFRM_MSG_GETSA] * 2 + \
        [x.XFRM_MSG_DELSA] * 2 + [x.XFRM_MSG_DELPOLICY] * 3
    assert all(errno.ENOENT in r.ignore for r in last[2:])
    assert plan.down(b"\x33" * 4) == []


def _state(spi, dst, src, nbytes, packets):
    import struct
    b = bytearray(224)
    b[40:42] = b"\x02\x00"
    b[56:72] = x.xfrm_address(dst)
    b[72:76] = spi
    b[76] = 50
    b[80:96] = x.xfrm_address(src)
    struct.pack_into("<QQ", b, 160, nbytes, packets)
    struct.pack_into("<H", b, 212, 2)
    return x.parse_usersa_info(bytes(b))


def test_counters_live_and_after_deletion_and_ike_rekey():
    plan = KernelPlan()
    plan.up(_child())
    reads = plan.read_requests("sa1")
    assert [r.reads for r in reads] == [("sa1", b"\x11" * 4), ("sa1", b"\x22" * 4)]
    plan.absorb(_state(b"\x11" * 4, "192.0.2.1", "198.51.100.9", 1000, 10))
    plan.absorb(_state(b"\x22" * 4, "198.51.100.9", "192.0.2.1", 5000, 20))
    plan.absorb(_state(b"\x99" * 4, "198.51.100.9", "192.0.2.1", 1, 1))  # not ours
    assert plan.counters("sa1") == ChildCounters(1000, 5000, 10, 20)
    plan.down(b"\x11" * 4)
    plan.retire_counters(b"\x11" * 4, b"\x22" * 4)
    plan.up(_child(spi_in=b"\x33" * 4, spi_out=b"\x44" * 4))
    plan.absorb(_state(b"\x33" * 4, "192.0.2.1", "198.51.100.9", 1, 1))
    assert plan.counters("sa1") == ChildCounters(1001, 5000, 11, 20)
    plan.ike_rekeyed("sa1", "sa1b")
    assert plan.counters("sa1b") == ChildCounters(1001, 5000, 11, 20)
    reqs, pairs = plan.ike_gone("sa1b")
    assert pairs == [(b"\x33" * 4, b"\x44" * 4)] and reqs
    assert plan.children_of("sa1b") == []


def test_expire_notices_once_per_kind():
    plan = KernelPlan()
    plan.up(_child())
    soft = plan.expire(x.Expire(_state(b"\x22" * 4, "198.51.100.9", "192.0.2.1", 0, 0), False))
    assert (soft.sa_id, soft.spi_in, soft.hard) == ("sa1", b"\x11" * 4, False)
    assert soft.reason == "soft lifetime of the outbound SA 22222222 reached"
    assert plan.expire(x.Expire(_state(b"\x11" * 4, "192.0.2.1", "198.51.100.9", 0, 0),
                                False)) is None  # the other direction's soft: same rekey
    hard = plan.expire(x.Expire(_state(b"\x11" * 4, "192.0.2.1", "198.51.100.9", 0, 0), True))
    assert hard.hard and hard.reason.startswith("hard lifetime of the inbound SA")
    assert plan.expire(x.Expire(_state(b"\x77" * 4, "192.0.2.1", "1.2.3.4", 0, 0), True)) is None
