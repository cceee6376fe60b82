"""How libreswan gets onto the machine, and the harness's parsing (no root needed)."""

from __future__ import annotations

import re
from pathlib import Path

from . import system_deps
from .libreswan import child_sa_outcome, ipsec_conf_text, parse_showstates, psk_conn

REPO = Path(__file__).resolve().parents[2]
SCRIPT = (REPO / "scripts" / "install-test-deps.sh").read_text()


def _apt_packages() -> set[str]:
    block = re.search(r"^APT_PACKAGES=\((.*?)^\)", SCRIPT, re.S | re.M).group(1)
    return {line.split("#")[0].strip() for line in block.splitlines()} - {""}


def test_script_unpacks_libreswan_where_the_checks_look():
    assert f"LIBRESWAN_PREFIX={system_deps.LIBRESWAN_PREFIX}\n" in SCRIPT
    assert 'apt-get download "libreswan=$want"' in SCRIPT


def test_libreswan_is_never_installed_by_apt():
    # installing it would remove strongswan-charon (Conflicts: strongswan-libcharon, ...)
    assert "libreswan" not in _apt_packages()
    assert set(system_deps.LIBRESWAN_LIBRARIES.values()) <= _apt_packages()
    assert {"libnss3-tools", "nftables"} <= _apt_packages()


def test_missing_pluto_is_named_with_where_it_comes_from(tmp_path):
    part = next(p for p in system_deps.PARTS if p.name == "pluto")
    assert not part.present(tmp_path)
    assert part.sentence() == ("missing libreswan program pluto (package libreswan, unpacked "
                               "into /opt/ikeeap-libreswan by scripts/install-test-deps.sh)")


def test_ipsec_conf_text():
    conn = psk_conn(left="198.51.100.2", right="198.51.100.1", leftid="dev1.psk.test",
                    rightid="vpn.example.test", ike="aes256-sha2_256-modp2048", pfs=False)
    text = ipsec_conf_text({"plutodebug": "none", "skipped": None}, {"psk": conn})
    assert text.startswith("config setup\n\tplutodebug=none\n\nconn psk\n")
    assert "\tleftid=@dev1.psk.test\n" in text and "\tike=aes256-sha2_256-modp2048\n" in text
    assert "\tpfs=no\n" in text and "\tleftupdown=%disabled\n" in text
    assert "skipped" not in text


def test_parse_showstates():
    out = ('000 #1: "psk":4500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); REKEY in '
           '28232s; REPLACE in 28799s; newest; idle;\n'
           '000 #1: pending CHILD SA for "psk"\n'
           '000 #2: "psk":500 STATE_V2_IKE_AUTH_CHILD_I0 (ephemeral: initiator creating child '
           'from IKE exchange); idle;\n')
    first, second = parse_showstates(out)
    assert (first.serial, first.conn, first.port, first.ike_established) == (1, "psk", 4500, True)
    assert (second.serial, second.state) == (2, "STATE_V2_IKE_AUTH_CHILD_I0")
    assert not second.ike_established


def test_child_sa_outcome():
    failed = ('Dec  7 13:27:23.82: "psk" #2: ERROR: "psk" #2: netlink response for Add SA '
              'esp.f0fa3e43@198.51.100.1: Function not implemented (errno 38)\n')
    assert child_sa_outcome(failed, "f0fa3e43") == "negotiated"
    assert child_sa_outcome(failed) == "negotiated"
    assert child_sa_outcome(failed, "0badc0de") is None
    assert child_sa_outcome(failed.replace("f0fa3e43", "c17ac86"), "0c17ac86") == "negotiated"
    assert child_sa_outcome('"psk" #2: initiator established Child SA using #1; IPsec '
                            'tunnel [198.51.100.2-198.51.100.2]') == "installed"
    assert child_sa_outcome('"psk" #1: initiator established IKE SA; authenticated peer') \
        is None
