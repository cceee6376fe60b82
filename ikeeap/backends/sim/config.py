"""The ``[sim]`` configuration table (parsed into a frozen :class:`SimConfig`).

    [sim]
    source = "milenage"               # milenage (Ki/OPc test SIMs) | file (triplets)
    triplets_file = "triplets.dat"    # source = file: IMSI,RAND,SRES,Kc per line (strongSwan)
    subscribers_file = "sim.milenage" # source = milenage: "IMSI Ki OPc" per line (hlr_auc_gw)
    db = "sim-identities.sqlite"      # pseudonyms + re-auth identities (relative: state_dir)
    identity_request = "any"          # any | fullauth | permanent | none (first Start round)
    trust_eap_identity = true         # use a known EAP-Response/Identity without asking
    rand_count = 3                    # RANDs per Challenge: 2 or 3
    pseudonyms = true                 # hand out AT_NEXT_PSEUDONYM
    fast_reauth = true                # hand out AT_NEXT_REAUTH_ID
    reauth_max = 16                   # fast re-authentications before a full one
    pseudonym_lifetime = 2592000      # seconds
    reauth_lifetime = 86400           # seconds
    result_ind = false                # offer protected result indications (AT_RESULT_IND)
    threads = 1                       # thread pool for the sqlite store

    [sim.subscribers."001010000000001"]   # inline Milenage subscribers (IMSI = key)
    ki = "465b5ce8b199b49faa5f0a2ee238a6bc"
    opc = "cd63cb71954a9f4e48a5994e37a02baf"

Files are read while parsing, so ``ikeeap check-config`` reports their errors.  The
parser never raises: every problem goes through the ConfigReader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ikeeap.backends.sim.triplets import (
    MilenageSubscriber,
    TripletFileError,
    parse_subscribers,
    parse_triplets,
)
from ikeeap.eap.methods.sim.provider import ID_REQUEST_POLICIES, SimPolicy, Triplet

if TYPE_CHECKING:
    from ikeeap.config import ConfigReader

SOURCES = ("milenage", "file")
_PREFIX = "sim."
_POLICY_KEYS = {"identity_request", "trust_eap_identity", "rand_count", "pseudonyms",
                "fast_reauth", "reauth_max", "result_ind"}
_KEYS = _POLICY_KEYS | {"source", "triplets_file", "subscribers", "subscribers_file", "db",
                        "pseudonym_lifetime", "reauth_lifetime", "threads"}


@dataclass(frozen=True)
class SimConfig:
    source: str
    policy: SimPolicy
    triplets: Mapping[str, tuple[Triplet, ...]] = field(default_factory=dict, repr=False)
    subscribers: Mapping[str, MilenageSubscriber] = field(default_factory=dict, repr=False)
    db: str = "sim-identities.sqlite"
    pseudonym_lifetime: float = 30 * 86400
    reauth_lifetime: float = 86400
    threads: int = 1

    def db_path(self, state_dir: Path) -> Path:
        path = Path(self.db)
        return path if path.is_absolute() else state_dir / path


def parse_sim_section(r: ConfigReader, table: dict[str, Any]) -> SimConfig | None:
    """Parse ``[sim]``; problems go to ``r`` (the result is then None)."""
    before = len(r.problems)
    r.unknown_keys(table, _PREFIX, _KEYS)
    source = r.get(table, _PREFIX, "source", str, "")
    if source not in SOURCES:
        r.problem(f"{_PREFIX}source", f"must be one of {', '.join(SOURCES)}")
    triplets = _read_triplets(r, table) if source == "file" else {}
    subscribers = _read_subscribers(r, table) if source == "milenage" else {}
    policy = _read_policy(r, table)
    lifetimes = {key: _positive(r, table, key, default) for key, default in
                 (("pseudonym_lifetime", 30 * 86400.0), ("reauth_lifetime", 86400.0))}
    threads = r.get(table, _PREFIX, "threads", int, 1)
    if not 1 <= threads <= 16:
        r.problem(f"{_PREFIX}threads", "must be 1..16")
    if len(r.problems) > before or policy is None:
        return None
    return SimConfig(source=source, policy=policy, triplets=triplets, subscribers=subscribers,
                     db=r.get(table, _PREFIX, "db", str, "sim-identities.sqlite"),
                     threads=threads, **lifetimes)


def _read_policy(r: ConfigReader, table: dict[str, Any]) -> SimPolicy | None:
    request = r.get(table, _PREFIX, "identity_request", str, "any")
    if request not in ID_REQUEST_POLICIES:
        r.problem(f"{_PREFIX}identity_request", f"must be one of {', '.join(ID_REQUEST_POLICIES)}")
        return None
    rand_count = r.get(table, _PREFIX, "rand_count", int, 3)
    reauth_max = r.get(table, _PREFIX, "reauth_max", int, 16)
    if rand_count not in (2, 3):
        r.problem(f"{_PREFIX}rand_count", "must be 2 or 3")
    if not 1 <= reauth_max <= 0xFFFF:
        r.problem(f"{_PREFIX}reauth_max", "must be 1..65535")
    flags = {key: r.get(table, _PREFIX, key, bool, default) for key, default in
             (("trust_eap_identity", True), ("pseudonyms", True), ("fast_reauth", True),
              ("result_ind", False))}
    try:
        return SimPolicy(identity_request=request, rand_count=rand_count,
                         reauth_max=reauth_max, **flags)
    except ValueError:
        return None


def _file(r: ConfigReader, table: dict[str, Any], key: str) -> Path | None:
    name = r.get(table, _PREFIX, key, str, "")
    if not name:
        r.problem(f"{_PREFIX}{key}", "is required for this source")
        return None
    path = Path(name)
    return path if path.is_absolute() else r.path.parent / path


def _read_triplets(r: ConfigReader, table: dict[str, Any]) -> dict[str, tuple[Triplet, ...]]:
    path = _file(r, table, "triplets_file")
    if path is None:
        return {}
    try:
        parsed = parse_triplets(path.read_text().splitlines(), str(path))
    except OSError as exc:
        r.problem(f"{_PREFIX}triplets_file", f"cannot read {path}: {exc.strerror}")
        return {}
    except TripletFileError as exc:
        r.problem(f"{_PREFIX}triplets_file", str(exc))
        return {}
    return {imsi: tuple(ts) for imsi, ts in parsed.items()}


def _read_subscribers(r: ConfigReader, table: dict[str, Any]) -> dict[str, MilenageSubscriber]:
    entries: dict[str, Any] = {}
    if "subscribers_file" in table:
        path = _file(r, table, "subscribers_file")
        try:
            entries.update(_milenage_db(path.read_text().splitlines()) if path else {})
        except OSError as exc:
            r.problem(f"{_PREFIX}subscribers_file", f"cannot read {path}: {exc.strerror}")
        except TripletFileError as exc:
            r.problem(f"{_PREFIX}subscribers_file", f"{path}:{exc}")
    entries.update(r.get(table, _PREFIX, "subscribers", dict, {}))
    if not entries:
        r.problem(f"{_PREFIX}subscribers", "source = milenage needs subscribers or a file")
    try:
        return parse_subscribers(entries, f"{_PREFIX}subscribers")
    except TripletFileError as exc:
        r.problem(f"{_PREFIX}subscribers", str(exc))
        return {}


def _milenage_db(lines: list[str]) -> dict[str, dict[str, str]]:
    """hostapd hlr_auc_gw.milenage_db lines: ``IMSI Ki OPc [AMF SQN]`` (``#`` comments)."""
    entries: dict[str, dict[str, str]] = {}
    for number, line in enumerate(lines, 1):
        fields = line.split("#", 1)[0].replace(",", " ").split()
        if not fields:
            continue
        if len(fields) not in (3, 5):
            raise TripletFileError(f"{number}: expected IMSI Ki OPc [AMF SQN]")
        entries[fields[0]] = {"ki": fields[1], "opc": fields[2]}
    return entries


def _positive(r: ConfigReader, table: dict[str, Any], key: str, default: float) -> float:
    value = float(r.get(table, _PREFIX, key, float, default))
    if value <= 0:
        r.problem(f"{_PREFIX}{key}", "must be > 0")
        return default
    return value
