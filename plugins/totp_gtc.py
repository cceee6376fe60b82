"""EAP-GTC with a TOTP second factor (RFC 6238): an example ikeeap plugin a site can use.

One GTC round: the user types the password immediately followed by the current 6-digit code
(``"s3cret" + "287082"`` -> ``"s3cret287082"``), or with a configured ``separator``
(``"s3cret,287082"``).  One round because strongSwan's eap-gtc client answers every GTC
request with its configured secret; two rounds would need an interactive client.  The
password goes to the configured password verifier (local users, LDAP, ...); the code is
checked in constant time against the user's TOTP secret for the current time step and
``window`` steps either side.  A code that logged someone in is refused for the rest of its
window (RFC 6238 §5.2), and so is any older one.

    [methods.totp-gtc]
    secrets = { alice = "JBSWY3DPEHPK3PXP" }   # base32 (what authenticator apps import)
    # secrets_file = "/etc/ikeeap/totp.toml"   # same shape, top-level user = "BASE32"
    digits = 6          # 6..8
    period = 30         # seconds per time step
    algorithm = "sha1"  # sha1, sha256 or sha512
    window = 1          # steps accepted either side of now (clock skew, typing time)
    separator = ""      # between password and code
    prompt = "Password followed by your 6-digit code: "

A secrets_file path is absolute or relative to the working directory; it is re-read when
its modification time changes.  No MSK, not mutual: EAP type 6 like plain GTC.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import struct
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ikeeap.eap.credentials import Providers
from ikeeap.eap.method import BaseMethod, EapContext, EapStep
from ikeeap.eap.methods.gtc import parse_gtc_response
from ikeeap.eap.packet import EapType

ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha512": hashlib.sha512}
_DUMMY_SECRET = b"\x00" * 20  # unknown users cost the same work as known ones
log = logging.getLogger("ikeeap.plugins.totp_gtc")


def hotp(secret: bytes, counter: int, digits: int = 6, algorithm: str = "sha1") -> str:
    """RFC 4226 §5.3: HMAC, dynamic truncation, decimal code of ``digits`` digits."""
    mac = hmac.new(secret, struct.pack(">Q", counter), ALGORITHMS[algorithm]).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def totp(secret: bytes, for_time: float, period: int = 30, digits: int = 6,
         algorithm: str = "sha1", t0: int = 0) -> str:
    """RFC 6238 §4: HOTP over T = floor((time - T0) / period)."""
    return hotp(secret, time_step(for_time, period, t0), digits, algorithm)


def time_step(for_time: float, period: int = 30, t0: int = 0) -> int:
    return int((for_time - t0) // period)


def decode_secret(text: str) -> bytes:
    """Base32 as authenticator apps show it: any case, spaces allowed, padding optional."""
    compact = "".join(text.split()).upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


@dataclass(frozen=True)
class TotpSettings:
    """The validated ``[methods.totp-gtc]`` table (raises ValueError naming the key)."""

    secrets: Mapping[str, bytes]
    secrets_file: str | None = None
    digits: int = 6
    period: int = 30
    algorithm: str = "sha1"
    window: int = 1
    separator: str = ""
    prompt: str = "Password followed by your 6-digit code: "

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TotpSettings:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown keys {unknown}")
        settings = cls(
            secrets=_parse_secrets(config.get("secrets", {}), "secrets"),
            secrets_file=_typed(config, "secrets_file", str, None),
            digits=_typed(config, "digits", int, 6), period=_typed(config, "period", int, 30),
            algorithm=_typed(config, "algorithm", str, "sha1"),
            window=_typed(config, "window", int, 1),
            separator=_typed(config, "separator", str, ""),
            prompt=_typed(config, "prompt", str, cls.prompt),
        )
        settings._validate()
        return settings

    def _validate(self) -> None:
        if not 6 <= self.digits <= 8:
            raise ValueError("digits must be 6..8")
        if self.period <= 0:
            raise ValueError("period must be a positive number of seconds")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
        if not 0 <= self.window <= 5:
            raise ValueError("window must be 0..5 time steps")
        if not self.secrets and self.secrets_file is None:
            raise ValueError("needs secrets (a table user = base32) or secrets_file")
        if self.secrets_file is not None:
            load_secrets_file(self.secrets_file)  # unreadable or malformed: fail at start-up


def _typed(config: Mapping[str, Any], key: str, kind: type, default: Any) -> Any:
    value = config.get(key, default)
    if value is not default and (not isinstance(value, kind) or isinstance(value, bool)):
        raise ValueError(f"{key} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _parse_secrets(table: Any, where: str) -> dict[str, bytes]:
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table user = base32 secret")  # noqa: TRY004
    parsed = {}
    for user, text in table.items():
        try:
            parsed[str(user)] = decode_secret(str(text))
        except (binascii.Error, ValueError):
            raise ValueError(f"{where}: the secret of user {user!r} is not base32") from None
        if len(parsed[str(user)]) < 10:  # RFC 4226 §4: at least 128 bits, 160 recommended
            raise ValueError(f"{where}: the secret of user {user!r} is shorter than 80 bits")
    return parsed


_FILE_CACHE: dict[str, tuple[float, dict[str, bytes]]] = {}


def load_secrets_file(path: str) -> dict[str, bytes]:
    """``user = "BASE32"`` lines (TOML), cached until the file's mtime changes."""
    try:
        mtime = os.stat(path).st_mtime
        cached = _FILE_CACHE.get(path)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        with open(path, "rb") as handle:
            parsed = _parse_secrets(tomllib.load(handle), f"secrets_file {path}")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"secrets_file {path}: {exc}") from None
    _FILE_CACHE[path] = (mtime, parsed)
    return parsed


class ReplayGuard:
    """The last time step that logged each user in; that step and older ones are spent."""

    def __init__(self) -> None:
        self._last_step: dict[str, int] = {}

    def spent(self, user: str, step: int) -> bool:
        return step <= self._last_step.get(user, -1)

    def claim(self, user: str, step: int) -> bool:
        """Mark ``step`` used; False if it (or a later one) already was."""
        if self.spent(user, step):
            return False
        self._last_step[user] = step
        return True


class TotpGtcMethod(BaseMethod):
    """Server side: one GTC request; password + code in the response."""

    name = "totp-gtc"
    eap_type = EapType.GTC
    requires = ("password_verifier",)
    replay_guard = ReplayGuard()  # shared by every login in this process

    def __init__(self, config: dict[str, Any] | None = None,
                 providers: Providers | None = None) -> None:
        super().__init__(config, providers)
        self.settings = TotpSettings.from_config(self.config)
        clock = providers.get("clock") if providers is not None else None
        self._clock: Callable[[], float] = clock or time.time  # tests inject a fixed clock
        self._started = False

    async def start(self, ctx: EapContext) -> EapStep:
        self._started = True
        return EapStep.continue_(bytes([EapType.GTC]) + self.settings.prompt.encode("utf-8"))

    async def process(self, ctx: EapContext, response: bytes) -> EapStep:
        if not self._started or response[:1] != bytes([EapType.GTC]):
            return EapStep.failure("unexpected EAP-GTC response")
        self._started = False
        text = parse_gtc_response(response[1:], ctx.identity)
        user = ctx.user
        if text is None or user is None:
            return EapStep.failure("malformed EAP-GTC response")
        verifier = self._providers(ctx).verifier
        if verifier is None:
            return EapStep.failure("totp-gtc: no password verifier configured")
        password, code = self._split(text)
        step = self._matching_step(user, code)
        # The password is always checked, so a wrong code costs the same time as a right one.
        password_ok = await verifier.verify(user, password)
        if not password_ok or step is None:
            which = "password" if not password_ok else "TOTP code"
            return EapStep.failure(f"totp-gtc authentication failed ({which})")
        if not self.replay_guard.claim(user, step):  # no await since the check: atomic
            return EapStep.failure("totp-gtc: TOTP code already used (replay)")
        ctx.info("totp-gtc: %s passed password and TOTP", user)
        return EapStep.success()

    def _split(self, text: str) -> tuple[str, str]:
        """(password, code); a response too short to hold a code yields an empty code."""
        digits, separator = self.settings.digits, self.settings.separator
        if len(text) < digits + len(separator) + 1:
            return text, ""
        password, code = text[:-digits], text[-digits:]
        if separator:
            if not password.endswith(separator):
                return text, ""
            password = password[: -len(separator)]
        return password, code

    def _secret_for(self, user: str) -> bytes | None:
        secret = self.settings.secrets.get(user)
        if secret is None and self.settings.secrets_file is not None:
            try:
                secret = load_secrets_file(self.settings.secrets_file).get(user)
            except ValueError as exc:  # file broken since start-up: refuse, never raise
                log.warning("%s", exc)
        return secret

    def _matching_step(self, user: str, code: str) -> int | None:
        """The time step whose code equals ``code``, comparing every candidate in constant
        time (no early exit); None when none matches or the user has no secret."""
        secret = self._secret_for(user)
        s = self.settings
        now_step = time_step(self._clock(), s.period)
        offered = code.encode("ascii", "replace") if code.isdigit() else b"-" * s.digits
        matched = None
        for step in range(now_step - s.window, now_step + s.window + 1):
            expected = hotp(secret or _DUMMY_SECRET, step, s.digits, s.algorithm).encode()
            if hmac.compare_digest(expected, offered) and secret is not None:
                matched = step
        return matched


EAP_METHODS = {"totp-gtc": TotpGtcMethod}
