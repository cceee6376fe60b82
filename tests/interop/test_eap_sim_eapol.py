"""EAP-SIM with a real peer: wpa_supplicant's eapol_test (external SIM over its control
interface) through ``ikeeap radius-front``; eapol_test compares its MSK with the MPPE keys
the front sends.  Full authentication, fast re-authentication (-r 2), a triplets file, and a
SIM answering with a wrong SRES."""

from __future__ import annotations

from pathlib import Path

from ikeeap.crypto.milenage import gsm_milenage

from .eapol import RadiusFront, front_config, require_eapol_test
from .external_sim import ExternalSimPeer

IMSI = "001010000000001"
IDENTITY = f"1{IMSI}@wlan.mnc001.mcc001.3gppnetwork.org"
KI = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")


def _card(rand: bytes) -> tuple[bytes, bytes]:
    return gsm_milenage(OPC, KI, rand)


def _milenage_config(directory: Path, extra: str = "") -> Path:
    sim = (f'[sim]\nsource = "milenage"\n{extra}'
           f'[sim.subscribers."{IMSI}"]\nki = "{KI.hex()}"\nopc = "{OPC.hex()}"\n')
    return front_config(directory, eap_methods=["sim"], extra=sim)


def test_eapol_test_full_authentication_msk_matches(tmp_path: Path) -> None:
    require_eapol_test()
    with RadiusFront(_milenage_config(tmp_path), tmp_path) as front:
        result = ExternalSimPeer(_card).run(front, IDENTITY, ("-r", "0"))
        log = front.log()
    assert result.success, result.output[-3000:] + log
    assert result.mppe == (1, 0)
    assert len(result.gsm_auth_requests) == 1 and len(result.gsm_auth_requests[0]) == 3


def test_eapol_test_fast_reauthentication_twice_msk_matches(tmp_path: Path) -> None:
    require_eapol_test()
    with RadiusFront(_milenage_config(tmp_path), tmp_path) as front:
        result = ExternalSimPeer(_card).run(front, IDENTITY, ("-r", "2"))
        log = front.log()
    assert result.success, result.output[-3000:] + log
    assert result.mppe == (3, 0)  # full + two re-authentications, every MSK matched
    assert len(result.gsm_auth_requests) == 1  # the SIM ran once: the others were fast
    assert result.output.count("EAP-SIM: Deriving keying data from reauth") == 2
    assert log.count("succeeded with an MSK") == 3


def test_eapol_test_with_triplets_file_source(tmp_path: Path) -> None:
    require_eapol_test()
    rands = [bytes([n]) * 16 for n in (0x11, 0x22, 0x33, 0x44)]
    lines = ["# strongSwan eap-sim-file format"]
    for rand in rands:
        sres, kc = _card(rand)
        lines.append(f"{IMSI},{rand.hex()},{sres.hex()},{kc.hex()}")
    (tmp_path / "triplets.dat").write_text("\n".join(lines) + "\n")
    sim = '[sim]\nsource = "file"\ntriplets_file = "triplets.dat"\nrand_count = 2\n'
    config = front_config(tmp_path, eap_methods=["sim"], extra=sim)
    with RadiusFront(config, tmp_path) as front:
        result = ExternalSimPeer(_card).run(front, IDENTITY, ("-r", "0"))
    assert result.success, result.output[-3000:]
    assert result.mppe == (1, 0)
    asked = result.gsm_auth_requests[0]
    assert len(asked) == 2 and {bytes.fromhex(r) for r in asked} <= set(rands)


def test_eapol_test_wrong_sres_is_refused(tmp_path: Path) -> None:
    require_eapol_test()

    def bad_sres(rand: bytes) -> tuple[bytes, bytes]:
        return b"\xde\xad\xbe\xef", _card(rand)[1]

    with RadiusFront(_milenage_config(tmp_path), tmp_path) as front:
        result = ExternalSimPeer(bad_sres).run(front, IDENTITY, ("-r", "0"))
        log = front.log()
    assert not result.success
    assert "CTRL-EVENT-EAP-FAILURE" in result.output or "FAILURE" in result.output
    assert "invalid AT_MAC" in log and "succeeded with an MSK" not in log
