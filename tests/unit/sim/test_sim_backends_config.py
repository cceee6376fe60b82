"""EAP-SIM backends and configuration: triplets file (strongSwan format), Milenage source,
the sqlite identity store (expiry, one-time re-auth identities, persistence), the [sim]
table through load_config, the registry entry and the attribute codec's error handling."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from ikeeap.backends.sim import (
    FileTripletSource,
    MilenageSubscriber,
    MilenageTripletSource,
    SqliteIdentityStore,
    parse_triplets,
)
from ikeeap.backends.sim.triplets import TripletFileError
from ikeeap.config import ConfigError, load_config
from ikeeap.crypto.milenage import gsm_milenage
from ikeeap.eap.methods.sim import ReauthState, SimPolicy
from ikeeap.eap.methods.sim import attributes as a
from ikeeap.eap.methods.sim.identities import IdentityKind, classify, normalise_imsi
from ikeeap.eap.registry import MethodRegistry

REPO = Path(__file__).resolve().parents[3]
KI = bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc")
OPC = bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf")


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


# -- triplet sources --------------------------------------------------------------------


def test_triplets_file_strongswan_format() -> None:
    table = parse_triplets([
        "# comment", "",
        "001010000000001, 0x00112233445566778899aabbccddeeff, 0xd1d2d3d4, a0a1a2a3a4a5a6a7",
        "1001010000000001@realm,11111111111111111111111111111111,01020304,0102030405060708",
    ])
    assert list(table) == ["001010000000001"] and len(table["001010000000001"]) == 2
    assert table["001010000000001"][0].sres == bytes.fromhex("d1d2d3d4")


@pytest.mark.parametrize("line", ["001010000000001,00,01020304,0102030405060708",
                                  "notanimsi,00112233445566778899aabbccddeeff,01020304,01",
                                  "001010000000001,zz112233445566778899aabbccddeeff,0102,0102"])
def test_triplets_file_errors_name_the_line(line: str) -> None:
    with pytest.raises(TripletFileError, match="f.dat:2"):
        parse_triplets(["# ok", line], "f.dat")


def test_file_source_picks_distinct_rands_and_refuses_too_few() -> None:
    table = parse_triplets([f"001010000000001,{n:032x},01020304,0102030405060708"
                            for n in range(4)] + ["001010000000002," + "00" * 16 + ",01020304,"
                                                  "0102030405060708"] * 3)
    source = FileTripletSource(table)
    for _ in range(20):
        chosen = run(source.get_triplets("001010000000001", 3))
        assert chosen is not None and len({t.rand for t in chosen}) == 3
    assert run(source.get_triplets("001010000000002", 2)) is None  # one RAND only
    assert run(source.get_triplets("999", 2)) is None


def test_milenage_source_answers_like_the_card() -> None:
    source = MilenageTripletSource({"001010000000001": MilenageSubscriber(KI, OPC)})
    triplets = run(source.get_triplets("001010000000001", 3))
    assert len({t.rand for t in triplets}) == 3
    assert all((t.sres, t.kc) == gsm_milenage(OPC, KI, t.rand) for t in triplets)
    assert run(source.get_triplets("001010000000009", 3)) is None


# -- identity store ---------------------------------------------------------------------


def test_store_persists_across_reopen_and_expires(tmp_path: Path) -> None:
    now = [1000.0]
    path = tmp_path / "state" / "ids.sqlite"
    store = SqliteIdentityStore(path, pseudonym_lifetime=100, reauth_lifetime=10,
                                clock=lambda: now[0])
    run(store.save_pseudonym("3abc", "001010000000001"))
    run(store.save_reauth("5xyz", ReauthState("001010000000001", b"k" * 20, 3)))
    store.close()
    reopened = SqliteIdentityStore(path, clock=lambda: now[0])
    assert run(reopened.lookup_pseudonym("3abc")) == "001010000000001"
    now[0] += 11  # past the re-auth lifetime, within the pseudonym's
    assert run(reopened.take_reauth("5xyz")) is None
    now[0] += 100
    assert run(reopened.lookup_pseudonym("3abc")) is None
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_reauth_identity_taken_once() -> None:
    store = SqliteIdentityStore(":memory:")
    run(store.save_reauth("5one", ReauthState("001010000000001", b"m" * 20, 0)))
    assert run(store.take_reauth("5one")) == ReauthState("001010000000001", b"m" * 20, 0)
    assert run(store.take_reauth("5one")) is None


def test_store_opens_nothing_until_used(tmp_path: Path) -> None:
    SqliteIdentityStore(tmp_path / "never.sqlite")
    assert not (tmp_path / "never.sqlite").exists()


# -- identities -------------------------------------------------------------------------


def test_identity_classification() -> None:
    assert classify(b"1001010000000001@x").kind is IdentityKind.PERMANENT
    assert classify(b"1001010000000001@x").username == "001010000000001"
    assert classify(b"3Abc@x").kind is IdentityKind.PSEUDONYM
    assert classify(b"5Abc").kind is IdentityKind.REAUTH
    assert classify(b"\xff\xfe").kind is IdentityKind.UNKNOWN
    assert classify(b"0001010000000001@x").kind is IdentityKind.UNKNOWN  # AKA, not SIM
    assert normalise_imsi("1001010000000001@realm") == "001010000000001"
    assert normalise_imsi("12") is None


# -- configuration ----------------------------------------------------------------------


def test_example_config_loads_with_sim_section() -> None:
    config = load_config(REPO / "conf" / "sim.example.toml")
    sim = config.sections["sim"]
    assert sim.source == "milenage" and "001010000000001" in sim.subscribers
    assert sim.policy == SimPolicy()
    assert sim.db_path(config.server.state_dir).parent == config.server.state_dir


def _write(tmp_path: Path, sim: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text('[certificates]\n[[connections]]\nname = "s"\neap_methods = ["sim"]\n'
                    + sim)
    return path


def test_sim_config_problems_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, '[sim]\nsource = "hlr"\nrand_count = 4\nbogus = 1\n'
                            'identity_request = "sometimes"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    for key in ("sim.source", "sim.bogus", "sim.identity_request"):
        assert key in text


def test_sim_config_file_source_and_milenage_db(tmp_path: Path) -> None:
    (tmp_path / "t.dat").write_text("001010000000001,bad\n")
    with pytest.raises(ConfigError, match="t.dat:1"):
        load_config(_write(tmp_path, '[sim]\nsource = "file"\ntriplets_file = "t.dat"\n'))
    (tmp_path / "m.db").write_text(f"# hlr_auc_gw\n001010000000002 {KI.hex()} {OPC.hex()} "
                                   "8000 000000000001\n")
    config = load_config(_write(tmp_path, '[sim]\nsource = "milenage"\n'
                                          'subscribers_file = "m.db"\nrand_count = 2\n'))
    assert "001010000000002" in config.sections["sim"].subscribers
    assert config.sections["sim"].policy.rand_count == 2


def test_sim_is_a_builtin_method_that_requires_triplets() -> None:
    registry = MethodRegistry.discover(entry_points=False)
    assert "sim" in registry
    factory = registry.get("sim")
    assert factory.eap_type == 18 and factory.mutual and factory.generates_msk
    assert factory.requires == ("sim_triplets",)


# -- codec ------------------------------------------------------------------------------


@pytest.mark.parametrize("data,reason", [
    (bytes([18, 10, 0, 0, 7, 5, 0]), "truncated"),
    (bytes([18, 10, 0, 0, 7, 0, 0, 0]), "bad length"),
    (bytes([18, 10, 0, 0, 16, 1, 0, 1, 16, 1, 0, 1]), "duplicate"),
    (bytes([18, 10, 0, 0, 99, 1, 0, 0]), "non-skippable"),
])
def test_codec_rejects(data: bytes, reason: str) -> None:
    with pytest.raises(a.SimParseError, match=reason):
        a.parse_message(data)


def test_codec_skips_unknown_skippable_and_never_raises_otherwise() -> None:
    msg = a.parse_message(bytes([18, 11, 0, 0, 200, 1, 0, 0, 16, 1, 0, 1]))
    assert msg.types() == {a.Attr.SELECTED_VERSION}
    rng = random.Random(4186)
    for _ in range(2000):
        data = bytes([18]) + bytes(rng.randrange(256) for _ in range(rng.randrange(48)))
        try:
            a.parse_message(data)
        except a.SimParseError:
            pass
