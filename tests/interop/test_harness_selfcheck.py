"""The interop harness proves itself without ikeeap: strongSwan initiator vs strongSwan responder.

If these fail, interop failures elsewhere are about the harness or the machine, not ikeeap.
"""

from __future__ import annotations

import socket
import sys
import time

import pytest

from .charon import (
    child_sa_negotiated,
    child_sa_outcome,
    parse_swanctl_pretty,
    wait_udp_bound,
)
from .conftest import SERVER_ID

PASSWORD = "correct horse \"battery\" staple"  # quoting in swanctl.conf is exercised too

# --- pure parsing checks (no root needed) -----------------------------------------------------

EMPTY_LISTING = "list-sas reply {\n}\n"

LISTING = """\
list-sa event {
  ikeeap {
    uniqueid = 1
    state = ESTABLISHED
    remote-id = vpn.example.test
    local-vips = [
      203.0.113.1
    ]
    child-sas {
      ikeeap-1 {
        name = ikeeap
        state = INSTALLED
        local-ts = [
          203.0.113.1/32
        ]
      }
    }
  }
}
list-sas reply {
}
"""


@pytest.mark.parametrize("text, expected", [(EMPTY_LISTING, []), ("", [])])
def test_parse_empty_listing(text, expected):
    from .charon import _ike_sas_from_listing

    assert _ike_sas_from_listing(text) == expected
    assert parse_swanctl_pretty(EMPTY_LISTING) == [("list-sas reply", {})]


def test_parse_listing():
    from .charon import _ike_sas_from_listing

    (sa,) = _ike_sas_from_listing(LISTING)
    assert sa["name"] == "ikeeap" and sa["state"] == "ESTABLISHED"
    assert sa["vips"] == ["203.0.113.1"]
    (child,) = sa["child-sas"]
    assert child["name"] == "ikeeap" and child["state"] == "INSTALLED"
    assert child["local-ts"] == ["203.0.113.1/32"]


def test_child_criterion_on_log_lines():
    assert child_sa_outcome("[IKE] <x|1> unable to install inbound and outbound IPsec SA "
                            "(SAD) in kernel") == "negotiated"
    assert child_sa_outcome("[IKE] unable to install outbound IPsec SA (SAD) in kernel") \
        == "negotiated"
    assert child_sa_outcome("[IKE] <x|1> CHILD_SA x{1} established with SPIs c1_i c2_o and "
                            "TS 203.0.113.1/32 === 0.0.0.0/0") == "installed"
    assert not child_sa_negotiated("[IKE] received TS_UNACCEPTABLE notify, no CHILD_SA built")
    assert not child_sa_negotiated("[IKE] establishing CHILD_SA ikeeap{1}")


# --- strongSwan against strongSwan (root) -----------------------------------------------------


@pytest.mark.interop
def test_charon_to_charon_eap_mschapv2(topology, charon_responder, charon_initiator,
                                       test_pki):
    t0 = time.monotonic()
    resp = charon_responder(topology, remote_auth="eap-mschapv2",
                            users={"alice": PASSWORD, "bob": "other"})
    ini = charon_initiator(topology, local_auth="eap-mschapv2", eap_id="alice",
                           eap_secret=PASSWORD, cacerts=[test_pki.ca_cert_path],
                           remote_id=SERVER_ID, encap=True)  # libipsec responder: ESP-in-UDP
    assert ini.list_sas() == []  # the listing is never empty text; parsed it is
    started = time.monotonic()

    res = ini.initiate(timeout=10)
    took = time.monotonic() - started
    # the kernel has no ESP: the initiator's SAD install fails, so swanctl reports failure
    assert not res.ok, res

    (sa,) = ini.list_sas()
    assert sa["state"] == "ESTABLISHED"
    assert sa["remote-id"] == SERVER_ID and sa["local-id"] == "alice"
    assert sa["remote-host"] == topology.responder_addr and sa["remote-port"] == "4500"
    assert sa["vips"] == ["203.0.113.1"]
    log = ini.log_text()
    assert "EAP method EAP_MSCHAPV2 succeeded, MSK established" in log
    assert child_sa_outcome(log) == "negotiated"
    assert ini.child_sa_negotiated()
    assert resp.wait_for_log(r"CHILD_SA rw\{\d+\} established", timeout=2)
    (rsa,) = resp.established_sas()
    assert rsa["remote-id"] == "alice"

    term = ini.terminate()
    assert term.ok, term
    assert ini.list_sas() == []
    assert took < 3, f"login took {took:.3f}s"
    print(f"charon->charon EAP-MSCHAPv2: initiate {took * 1000:.0f} ms, "
          f"test {time.monotonic() - t0:.2f} s")


@pytest.mark.interop
def test_wrong_password_fails_fast(topology, charon_responder, charon_initiator, test_pki):
    charon_responder(topology, users={"alice": PASSWORD})
    # strongSwan's EAP-MSCHAPv2 server waits ~2 s before it answers a wrong password, so give
    # this initiator one more retransmit (1 s each) than the default before it gives up.
    ini = charon_initiator(topology, eap_id="alice", eap_secret="wrong",
                           cacerts=[test_pki.ca_cert_path], remote_id=SERVER_ID, encap=True,
                           retransmit_tries=3)
    res = ini.initiate(timeout=10)
    assert not res.ok
    assert res.duration < 6, res
    assert ini.list_sas() == []
    log = ini.log_text()
    assert "EAP_MSCHAPV2 method failed" in log
    assert "IKE_SA ikeeap[1] established" not in log
    assert not child_sa_negotiated(log)


@pytest.mark.interop
def test_no_responder_gives_up_quickly(topology, charon_initiator, test_pki):
    ini = charon_initiator(topology, eap_secret="x", cacerts=[test_pki.ca_cert_path])
    res = ini.initiate(timeout=10)
    assert not res.ok
    assert res.duration < 5, res  # retransmit_timeout 1 s x (2 tries + 1)
    assert "giving up after 2 retransmits" in ini.log_text()


@pytest.mark.interop
def test_libipsec_initiator_installs_child(topology, charon_responder, charon_initiator,
                                           test_pki):
    charon_responder(topology, remote_auth="eap-md5", users={"alice": PASSWORD})
    ini = charon_initiator(topology, kernel="libipsec", local_auth="eap-md5",
                           eap_secret=PASSWORD, cacerts=[test_pki.ca_cert_path],
                           remote_id=SERVER_ID, ike_proposals=["aes256gcm16-prfsha384-ecp384"],
                           esp_proposals=["aes256gcm16"])
    res = ini.initiate(timeout=10)
    assert res.ok, res
    (sa,) = ini.list_sas()
    assert sa["encr-alg"] == "AES_GCM_16" and sa["dh-group"] == "ECP_384"
    (child,) = sa["child-sas"]
    assert child["state"] == "INSTALLED" and child["encap"] == "yes"
    assert child_sa_outcome(ini.log_text()) == "installed"


@pytest.mark.interop
def test_root_link_and_run_in_netns(root_topology, spawn):
    """A datagram from the initiator's namespace reaches the root side, and back."""
    topo = root_topology
    assert topo.responder_ns is None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    with sock:
        sock.bind((topo.responder_addr, 0))
        port = sock.getsockname()[1]
        wait_udp_bound(None, port, topo.responder_addr, timeout=2)
        code = ("import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                "s.settimeout(3); s.sendto(b'ping', (sys.argv[1], int(sys.argv[2]))); "
                "sys.exit(0 if s.recv(10) == b'pong' else 1)")
        proc = spawn(topo.initiator_ns, [sys.executable, "-c", code, topo.responder_addr,
                                         str(port)], name="udp-client")
        data, peer = sock.recvfrom(10)
        assert data == b"ping" and peer[0] == topo.initiator_addr
        sock.sendto(b"pong", peer)
        assert proc.wait(5) == 0
