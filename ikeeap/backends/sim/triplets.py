"""Triplet sources: a strongSwan eap-sim-file style triplets file, and GSM-Milenage test
SIMs from Ki/OPc (as hostapd's hlr_auc_gw).  Both satisfy
:class:`ikeeap.eap.methods.sim.provider.TripletSource`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ikeeap.crypto.milenage import gsm_milenage
from ikeeap.eap.methods.sim.identities import normalise_imsi
from ikeeap.eap.methods.sim.provider import Triplet

log = logging.getLogger("ikeeap.sim")


class TripletFileError(ValueError):
    """A malformed triplets or subscribers file; the message names file and line."""


def _hex(text: str, size: int) -> bytes:
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    value = bytes.fromhex(cleaned)
    if len(value) != size:
        raise ValueError(f"expected {size} octets, got {len(value)}")
    return value


def parse_triplets(lines: Iterable[str], origin: str = "triplets") -> dict[str, list[Triplet]]:
    """``IMSI,RAND,SRES,Kc`` per line (hex; ``#`` comments, blank lines skipped)."""
    table: dict[str, list[Triplet]] = {}
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        fields = [f.strip() for f in text.split(",")]
        imsi = normalise_imsi(fields[0]) if fields else None
        try:
            if len(fields) != 4 or imsi is None:
                raise ValueError("expected IMSI,RAND,SRES,Kc")
            triplet = Triplet(_hex(fields[1], 16), _hex(fields[2], 4), _hex(fields[3], 8))
        except ValueError as exc:
            raise TripletFileError(f"{origin}:{number}: {exc}") from None
        table.setdefault(imsi, []).append(triplet)
    return table


def _pick_distinct(triplets: list[Triplet], count: int) -> list[Triplet] | None:
    """``count`` triplets with distinct RANDs, chosen at random, or None if too few."""
    by_rand = {t.rand: t for t in triplets}
    if len(by_rand) < count:
        return None
    pool = list(by_rand.values())
    return [pool.pop(secrets.randbelow(len(pool))) for _ in range(count)]


class FileTripletSource:
    """Pre-computed triplets (strongSwan ``eap-sim-file`` format).  Triplets are reused
    across logins, as with strongSwan: a lab or fallback source, not for production."""

    def __init__(self, triplets: Mapping[str, list[Triplet]]) -> None:
        self._triplets = {imsi: list(ts) for imsi, ts in triplets.items()}

    @classmethod
    def from_file(cls, path: str | Path) -> FileTripletSource:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise TripletFileError(f"{path}: cannot read: {exc.strerror}") from None
        return cls(parse_triplets(text.splitlines(), str(path)))

    def __len__(self) -> int:
        return len(self._triplets)

    async def get_triplets(self, imsi: str, count: int) -> list[Triplet] | None:
        known = self._triplets.get(imsi)
        if known is None:
            return None
        chosen = _pick_distinct(known, count)
        if chosen is None:
            log.warning("triplets file: too few distinct RANDs for a subscriber")
        return chosen


@dataclass(frozen=True)
class MilenageSubscriber:
    ki: bytes = field(repr=False)
    opc: bytes = field(repr=False)


class MilenageTripletSource:
    """Fresh random RANDs answered with GSM-Milenage (TS 35.206 + c2/c3 of TS 33.102)."""

    def __init__(self, subscribers: Mapping[str, MilenageSubscriber],
                 random: Callable[[int], bytes] = secrets.token_bytes) -> None:
        self._subscribers = dict(subscribers)
        self._random = random

    def __len__(self) -> int:
        return len(self._subscribers)

    async def get_triplets(self, imsi: str, count: int) -> list[Triplet] | None:
        sub = self._subscribers.get(imsi)
        if sub is None:
            return None
        rands: list[bytes] = []
        while len(rands) < count:
            rand = self._random(16)
            if rand not in rands:
                rands.append(rand)
        return [Triplet(rand, *gsm_milenage(sub.opc, sub.ki, rand)) for rand in rands]

    def gsm_auth(self, imsi: str) -> Callable[[bytes], tuple[bytes, bytes]]:
        """The SIM card of ``imsi`` as a callable RAND -> (SRES, Kc) (test peers)."""
        sub = self._subscribers[imsi]
        return lambda rand: gsm_milenage(sub.opc, sub.ki, rand)


def parse_subscribers(entries: Mapping[str, object], origin: str) -> dict[str, MilenageSubscriber]:
    """``{imsi: {ki = hex, opc = hex}}`` -> subscribers; errors name the IMSI."""
    subscribers: dict[str, MilenageSubscriber] = {}
    for key, entry in entries.items():
        imsi = normalise_imsi(str(key))
        if imsi is None:
            raise TripletFileError(f"{origin}: {key!r} is not an IMSI")
        if not isinstance(entry, Mapping) or set(entry) != {"ki", "opc"}:
            raise TripletFileError(f"{origin}: subscriber {key}: needs exactly ki and opc")
        try:
            subscribers[imsi] = MilenageSubscriber(_hex(str(entry["ki"]), 16),
                                                   _hex(str(entry["opc"]), 16))
        except ValueError as exc:
            raise TripletFileError(f"{origin}: subscriber {key}: {exc}") from None
    return subscribers
