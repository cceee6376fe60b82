"""plugins/totp_gtc.py, the example plugin: RFC 6238/4226 vectors, then full IKEv2 logins
through the method-author kit exactly as `ikeeap serve` loads it (from plugins/)."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from types import ModuleType

import pytest

from ikeeap.eap.registry import RegistryError
from ikeeap.testkit import MethodKit

PLUGINS = Path(__file__).resolve().parents[3] / "plugins"
SECRET_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of b"12345678901234567890"
NOW = 1_700_000_000.0  # a fixed clock for login tests (injected as the "clock" provider)


def _kit(config: dict | None = None, clock: float = NOW, **kw) -> MethodKit:
    config = {"secrets": {"alice": SECRET_B32}} if config is None else config
    return MethodKit("totp-gtc", plugins_dir=PLUGINS, config=config,
                     users={"alice": "alice-pw", "bob": "bob-pw"},
                     extra_providers={"clock": lambda: clock}, **kw)


def _module(kit: MethodKit) -> ModuleType:
    return sys.modules[kit.registry.get("totp-gtc").__module__]


@pytest.fixture(scope="module")
def totp_module() -> ModuleType:
    return _module(_kit())


def _code(mod: ModuleType, at: float = NOW, secret: str = SECRET_B32) -> str:
    return mod.totp(mod.decode_secret(secret), at)


# ---- RFC vectors ----------------------------------------------------------------------

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC6238_APPENDIX_B = [  # time, SHA1, SHA256, SHA512 (8 digits, T0 = 0, X = 30)
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize("row", RFC6238_APPENDIX_B, ids=lambda r: str(r[0]))
def test_rfc6238_appendix_b_vectors(totp_module: ModuleType, row: tuple) -> None:
    at, *codes = row
    for algorithm, expected in zip(("sha1", "sha256", "sha512"), codes):
        assert totp_module.totp(SEEDS[algorithm], at, 30, 8, algorithm) == expected


def test_rfc4226_appendix_d_hotp_vectors(totp_module: ModuleType) -> None:
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]
    assert [totp_module.hotp(SEEDS["sha1"], c) for c in range(10)] == expected


def test_base32_secret_as_apps_show_it(totp_module: ModuleType) -> None:
    spaced = " ".join(SECRET_B32[i:i + 4] for i in range(0, 32, 4)).lower()
    assert totp_module.decode_secret(spaced) == SEEDS["sha1"]


# ---- logins through the kit -----------------------------------------------------------


def test_password_and_current_code_log_in(totp_module: ModuleType) -> None:
    login = _kit().login("alice", "alice-pw" + _code(totp_module))
    assert login.established and login.method == "totp-gtc" and login.msk is None


@pytest.mark.parametrize("password, why", [
    ("wrong-pw", "password"), ("alice-pw", "TOTP code"),
])
def test_one_wrong_factor_is_refused(totp_module: ModuleType, password: str, why: str) -> None:
    code = _code(totp_module) if why == "password" else "000000"
    login = _kit().login("alice", password + code)
    assert login.refused
    assert login.failure == f"EAP totp-gtc failed: totp-gtc authentication failed ({why})"


def test_same_code_is_refused_the_second_time(totp_module: ModuleType) -> None:
    kit = _kit()
    secret = "alice-pw" + _code(totp_module)
    assert kit.login("alice", secret).established
    replay = kit.login("alice", secret)
    assert replay.refused and "already used (replay)" in (replay.failure or "")


def test_an_older_code_after_a_newer_one_is_refused(totp_module: ModuleType) -> None:
    kit = _kit()
    assert kit.login("alice", "alice-pw" + _code(totp_module, NOW + 30)).established
    assert kit.login("alice", "alice-pw" + _code(totp_module, NOW)).refused


def test_failed_login_does_not_spend_the_code(totp_module: ModuleType) -> None:
    """A wrong password with the right code must not let an attacker burn the code."""
    kit = _kit()
    assert kit.login("alice", "guess" + _code(totp_module)).refused
    assert kit.login("alice", "alice-pw" + _code(totp_module)).established


@pytest.mark.parametrize("offset, accepted", [
    (-60, False), (-30, True), (0, True), (30, True), (60, False),
])
def test_window_of_one_step_either_side(totp_module: ModuleType, offset: int,
                                        accepted: bool) -> None:
    login = _kit().login("alice", "alice-pw" + _code(totp_module, NOW + offset))
    assert login.established is accepted


def test_window_zero_accepts_only_the_current_step(totp_module: ModuleType) -> None:
    config = {"secrets": {"alice": SECRET_B32}, "window": 0}
    assert _kit(config).login("alice", "alice-pw" + _code(totp_module, NOW - 30)).refused


def test_separator_is_required_when_configured(totp_module: ModuleType) -> None:
    config = {"secrets": {"alice": SECRET_B32}, "separator": ","}
    code = _code(totp_module)
    assert _kit(config).login("alice", "alice-pw," + code).established
    assert _kit(config).login("alice", "alice-pw" + code).refused


def test_sha256_eight_digits(totp_module: ModuleType) -> None:
    secret = base64.b32encode(SEEDS["sha256"]).decode()
    config = {"secrets": {"alice": secret}, "digits": 8, "algorithm": "sha256"}
    code = totp_module.totp(SEEDS["sha256"], NOW, 30, 8, "sha256")
    assert _kit(config).login("alice", "alice-pw" + code).established


def test_user_without_a_totp_secret_is_refused(totp_module: ModuleType) -> None:
    login = _kit().login("bob", "bob-pw" + _code(totp_module))
    assert login.refused and "(TOTP code)" in (login.failure or "")


@pytest.mark.parametrize("secret", ["alice-pw", "", "alice-pw12345", "alice-pw\u0661" * 2])
def test_too_short_or_odd_input_is_refused(secret: str) -> None:
    assert _kit().login("alice", secret).refused


def test_secrets_file_is_read_and_reread(tmp_path: Path, totp_module: ModuleType) -> None:
    path = tmp_path / "totp.toml"
    path.write_text(f'alice = "{SECRET_B32}"\n')
    kit = _kit({"secrets_file": str(path)})
    assert kit.login("alice", "alice-pw" + _code(totp_module)).established
    other = base64.b32encode(b"another-secret-20-by").decode()
    path.write_text(f'bob = "{other}"\n')
    import os
    os.utime(path, (NOW, NOW))  # a new mtime even within the same second
    assert kit.login("bob", "bob-pw" + _code(totp_module, secret=other)).established


@pytest.mark.parametrize("config, message", [
    ({"secrets": {"alice": SECRET_B32}, "digits": 12}, "digits must be 6..8"),
    ({"secrets": {"alice": SECRET_B32}, "algorithm": "md5"}, "algorithm must be one of"),
    ({"secrets": {"alice": SECRET_B32}, "window": 9}, "window must be 0..5"),
    ({"secrets": {"alice": SECRET_B32}, "digits": "6"}, "digits must be int"),
    ({"secrets": {"alice": SECRET_B32}, "colour": "red"}, "unknown keys ['colour']"),
    ({"secrets": {"alice": "not base32!"}}, "user 'alice' is not base32"),
    ({"secrets": {"alice": "GEZDGNBV"}}, "shorter than 80 bits"),
    ({}, "needs secrets"),
    ({"secrets_file": "/nonexistent/totp.toml"}, "secrets_file /nonexistent/totp.toml"),
])
def test_bad_config_stops_start_up(config: dict, message: str) -> None:
    with pytest.raises(RegistryError) as err:
        _kit(config)
    assert "EAP method 'totp-gtc' (plugin " in str(err.value) and message in str(err.value)


def test_shipped_example_config_passes_check_config() -> None:
    from ikeeap import cli

    example = PLUGINS.parent / "conf" / "totp.example.toml"
    assert cli.main(["check-config", "--config", str(example)]) == 0
