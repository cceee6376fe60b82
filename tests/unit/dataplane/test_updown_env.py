"""updown environments, named and formatted as strongSwan's updown plugin passes them."""

from __future__ import annotations

from ikeeap.dataplane.interface import ChildSaUp
from ikeeap.dataplane.updown import updown_environments
from ikeeap.wire.constants import EncrId, IntegId


def _child(**kw):
    base = dict(sa_id="sa1", unique_id=4, reqid=12, spi_in=b"\x11" * 4, spi_out=b"\x22" * 4,
                encr=EncrId.AES_GCM_16, encr_key_bits=128, integ=IntegId.NONE,
                keymat=b"K" * 40, local=("192.0.2.1", 4500), remote=("198.51.100.9", 61000),
                ts_local=("0.0.0.0/0",), ts_remote=("10.3.0.7/32",), udp_encap=True,
                virtual_ip="10.3.0.7", connection="rw", local_id="vpn.example.org",
                remote_id="laptop.example.org", username="demo")
    base.update(kw)
    return ChildSaUp(**base)


def test_up_client_with_every_variable():
    (env,) = updown_environments(_child(), up=True, interface="eth0", path="/usr/bin:/bin")
    assert env == {
        "PATH": "/usr/bin:/bin",
        "PLUTO_VERSION": "1.1",
        "PLUTO_VERB": "up-client",
        "PLUTO_CONNECTION": "rw",
        "PLUTO_INTERFACE": "eth0",
        "PLUTO_REQID": "12",
        "PLUTO_PROTO": "esp",
        "PLUTO_UNIQUEID": "4",
        "PLUTO_ME": "192.0.2.1",
        "PLUTO_MY_ID": "vpn.example.org",
        "PLUTO_MY_CLIENT": "0.0.0.0/0",
        "PLUTO_MY_PORT": "0",
        "PLUTO_MY_PROTOCOL": "0",
        "PLUTO_PEER": "198.51.100.9",
        "PLUTO_PEER_ID": "laptop.example.org",
        "PLUTO_PEER_CLIENT": "10.3.0.7/32",
        "PLUTO_PEER_PORT": "0",
        "PLUTO_PEER_PROTOCOL": "0",
        "PLUTO_XAUTH_ID": "demo",
        "PLUTO_USERNAME": "demo",
        "PLUTO_PEER_SOURCEIP": "10.3.0.7",
        "PLUTO_PEER_SOURCEIP4_1": "10.3.0.7",
        "PLUTO_UDP_ENC": "61000",
    }
    assert not any("K" * 8 in v for v in env.values())  # no key material anywhere


def test_down_v6_host_ports_icmp_and_optional_variables():
    child = _child(local=("2001:db8::1", 500), remote=("2001:db8::9", 500), udp_encap=False,
                   ts_local=("2001:db8::1/128[6/443-443]", "10.0.0.0/8"),
                   ts_remote=("2001:db8:7::/64[6/1024-65535]",), virtual_ip="2001:db8:7::5",
                   username=None, if_id=7)
    (env,) = updown_environments(child, up=False)
    assert env["PLUTO_VERB"] == "down-host-v6"  # our selector is our own address
    assert env["PLUTO_INTERFACE"] == "unknown"
    assert (env["PLUTO_MY_PORT"], env["PLUTO_PEER_PORT"]) == ("443", "1024:65535")
    assert (env["PLUTO_MY_PROTOCOL"], env["PLUTO_PEER_PROTOCOL"]) == ("6", "6")
    assert env["PLUTO_PEER_SOURCEIP6_1"] == "2001:db8:7::5"
    assert (env["PLUTO_IF_ID_IN"], env["PLUTO_IF_ID_OUT"]) == ("7", "7")
    for absent in ("PLUTO_UDP_ENC", "PLUTO_XAUTH_ID", "PLUTO_USERNAME", "PLUTO_IPCOMP"):
        assert absent not in env
    icmp = _child(ts_local=("0.0.0.0/0[1/2048-2048]",), ts_remote=("10.3.0.7/32[1/0-0]",))
    (env,) = updown_environments(icmp, up=True)
    assert (env["PLUTO_MY_PORT"], env["PLUTO_PEER_PORT"]) == ("8", "0")  # type 8, code 0


def test_one_environment_per_selector_pair_and_ranges_widened():
    child = _child(ts_local=("10.0.0.0/16", "10.1.0.1-10.1.0.6"),
                   ts_remote=("10.3.0.7/32", "10.3.0.8/32"))
    envs = updown_environments(child, up=True)
    pairs = [(e["PLUTO_MY_CLIENT"], e["PLUTO_PEER_CLIENT"]) for e in envs]
    assert pairs == [("10.0.0.0/16", "10.3.0.7/32"), ("10.0.0.0/16", "10.3.0.8/32"),
                     ("10.1.0.0/29", "10.3.0.7/32"), ("10.1.0.0/29", "10.3.0.8/32")]


def test_peer_controlled_identities_lose_control_characters():
    (env,) = updown_environments(_child(remote_id="evil\nPLUTO_X=1\0", username="a\tb"), True)
    assert env["PLUTO_PEER_ID"] == "evil?PLUTO_X=1?"
    assert env["PLUTO_USERNAME"] == "a?b"
