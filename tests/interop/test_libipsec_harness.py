"""The harness's libipsec mode: real ESP traffic through a strongSwan Child SA.

This kernel installs no ESP SA, so both charons here use kernel-libipsec (userland ESP over the
TUN device ``ipsec0``, ESP-in-UDP on port 4500).  A strongSwan responder (virtual IP pool
203.0.113.0/24, ``local_ts = 0.0.0.0/0``) and a strongSwan initiator started with
``libipsec=True`` log in, then the initiator pings the responder's addresses from its virtual IP:
every echo request and reply must be counted by the Child SA on both sides.

If these fail, data-plane tests built on the harness cannot be trusted on this machine.
"""

from __future__ import annotations

import pytest

from .charon import CharonInitiator, Netns, parse_ping_output
from .conftest import SERVER_ID

PSK = "libipsec harness pre-shared key"
PASSWORD = "libipsec-harness-pw"
PINGS = 20
EXTRA_ADDR = "198.18.0.1"  # on lo in the responder's namespace (RFC 2544 range)

# --- no root needed ----------------------------------------------------------------------------

PING_OK = """\
PING 198.51.100.1 (198.51.100.1) 56(84) bytes of data.
64 bytes from 198.51.100.1: icmp_seq=1 ttl=64 time=0.759 ms

--- 198.51.100.1 ping statistics ---
20 packets transmitted, 20 received, 0% packet loss, time 3817ms
rtt min/avg/max/mdev = 0.416/0.574/0.759/0.111 ms
"""
PING_LOSS = """\
--- 203.0.113.9 ping statistics ---
5 packets transmitted, 0 received, +5 errors, 100% packet loss, time 4006ms
"""


def test_parse_ping_output():
    assert parse_ping_output(PING_OK) == (20, 20)
    assert parse_ping_output(PING_LOSS) == (5, 0)
    with pytest.raises(Exception, match="no ping statistics"):
        parse_ping_output("ping: connect: Network is unreachable\n")


def _initiator(tmp_path, **kw) -> CharonInitiator:
    # netns + addresses given: nothing is created, so this needs no root
    return CharonInitiator("cfg", tmp_path, netns=Netns("ikeeap-t0-unused"),
                           local_addr="198.51.100.2", peer_addr="198.51.100.1", **kw)


def test_libipsec_option_configures_charon(tmp_path):
    ini = _initiator(tmp_path, libipsec=True, eap_secret="x")
    assert ini.kernel == "libipsec"
    assert "kernel-libipsec" in ini.plugins and "kernel-netlink" in ini.plugins
    plugins = ini.strongswan_tree()["charon"]["plugins"]
    assert plugins["kernel-libipsec"] == {"allow_peer_ts": True}
    assert plugins["socket-default"] == {"fwmark": "0x42"}
    assert plugins["kernel-netlink"] == {"fwmark": "!0x42"}
    assert ini.swanctl_tree()["connections"]["ikeeap"]["encap"] is True


def test_default_stays_kernel_netlink(tmp_path):
    ini = _initiator(tmp_path, eap_secret="x")
    assert ini.kernel == "netlink" and "kernel-libipsec" not in ini.plugins
    plugins = ini.strongswan_tree()["charon"]["plugins"]
    assert not {"kernel-libipsec", "socket-default", "kernel-netlink"} & set(plugins)
    assert ini.swanctl_tree()["connections"]["ikeeap"]["encap"] is False
    assert _initiator(tmp_path, kernel="libipsec", libipsec=False).kernel == "netlink"
    assert _initiator(tmp_path, kernel="libipsec").kernel == "libipsec"


# --- strongSwan responder (libipsec) <- strongSwan initiator (libipsec), real ESP (root) --------


def _add_extra_address(topology) -> None:
    # on lo: this kernel has no dummy link type; the initiator has no route to it but the tunnel
    topology.responder_ns.run(["ip", "addr", "add", f"{EXTRA_ADDR}/32", "dev", "lo"])


def _login(topology, charon_responder, charon_initiator, test_pki, auth):
    if auth == "psk":
        resp = charon_responder(topology, libipsec=True, local_auth="psk", remote_auth="psk",
                                psk=PSK, cert=None, key=None, local_id=topology.responder_addr)
        ini = charon_initiator(topology, libipsec=True, local_auth="psk", remote_auth="psk",
                               psk=PSK, eap_id=None, remote_id=topology.responder_addr)
    else:
        resp = charon_responder(topology, libipsec=True, remote_auth="eap-mschapv2",
                                users={"alice": PASSWORD})
        ini = charon_initiator(topology, libipsec=True, local_auth="eap-mschapv2",
                               eap_id="alice", eap_secret=PASSWORD,
                               cacerts=[test_pki.ca_cert_path], remote_id=SERVER_ID)
    return resp, ini


@pytest.mark.interop
@pytest.mark.parametrize("auth", ["psk", "eap-mschapv2"])
def test_ping_through_libipsec_child_sa(topology, charon_responder, charon_initiator,
                                        test_pki, auth):
    _add_extra_address(topology)
    resp, ini = _login(topology, charon_responder, charon_initiator, test_pki, auth)
    # before the Child SA: plain routing over the veth (nothing routes to EXTRA_ADDR)
    assert ini.route_dev(topology.responder_addr) == topology.initiator_if
    assert ini.route_dev(EXTRA_ADDR) is None

    res = ini.initiate(timeout=10)
    assert res.ok, res
    (sa,) = ini.list_sas()
    assert sa["state"] == "ESTABLISHED" and sa["remote-port"] == "4500"
    assert sa["vips"] == ["203.0.113.1"]
    (child,) = sa["child-sas"]
    assert child["state"] == "INSTALLED" and child["encap"] == "yes"
    assert resp.wait_for_log(r"CHILD_SA rw\{\d+\} established", timeout=2)

    before_i, before_r = ini.child_traffic(), resp.child_traffic()
    for dest in (topology.responder_addr, EXTRA_ADDR):
        assert ini.route_dev(dest) == "ipsec0", dest  # the tunnel, not the veth
        sent, received = ini.ping(dest, count=PINGS, interval=0.05)
        assert (sent, received) == (PINGS, PINGS), ini.last_ping_output
    after_i, after_r = ini.child_traffic(), resp.child_traffic()

    n = 2 * PINGS  # echo requests out, replies in, on each side
    assert after_i.children == after_r.children == 1
    assert after_i.packets_out - before_i.packets_out >= n
    assert after_i.packets_in - before_i.packets_in >= n
    assert after_r.packets_in - before_r.packets_in >= n
    assert after_r.packets_out - before_r.packets_out >= n
    # 84-octet IPv4 ICMP echo packets, counted inside ESP
    assert after_i.bytes_out - before_i.bytes_out >= 84 * n
    assert after_r.bytes_in - before_r.bytes_in >= 84 * n
    print(f"{auth}: {n} pings, initiator {after_i}, responder {after_r}")

    assert ini.terminate().ok
    assert ini.list_sas() == []
