"""``[dataplane]`` settings and the choice of data plane (pure: no sockets, no Twisted).

``mode = "auto"`` takes the kernel's XFRM where the kernel can install ESP SAs and ikeeap's
userspace ESP over a TUN device otherwise; ``choose_mode`` makes that choice from the kernel
probe's result (``ikeeap/server/xfrm_kernel.py: probe_kernel``) and gives the one log sentence
saying which and why. ``mode = "kernel"`` on a kernel without ESP refuses to start
(:class:`DataPlaneUnavailable`, its message naming the reason).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Mapping

from .interface import Lifetimes

MODES = ("auto", "userspace", "kernel", "none")


class DataPlaneSettingsError(ValueError):
    """Every problem of a ``[dataplane]`` table, each as ``dataplane.KEY: what is wrong``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class DataPlaneUnavailable(RuntimeError):
    """The configured data plane cannot run on this host; the message says why."""


@dataclass(frozen=True, slots=True)
class DataPlaneSettings:
    mode: str = "auto"
    replay_window: int = 64  # packets (RFC 4303 §3.4.3; at least 64)
    # Child SA lifetimes (0: no limit). Soft: ikeeap starts the rekey; hard: the SA is deleted.
    soft_lifetime_seconds: int = 3600
    hard_lifetime_seconds: int = 3960
    soft_lifetime_bytes: int = 0
    hard_lifetime_bytes: int = 0
    soft_lifetime_packets: int = 0
    hard_lifetime_packets: int = 0
    tun_name: str = "ikeeap0"  # the userspace data plane's TUN device
    updown: str | None = None  # absolute path of a strongSwan-style updown script
    updown_timeout: float = 10.0  # seconds before a hanging script is killed

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any] | None, prefix: str = "dataplane"
                     ) -> DataPlaneSettings:
        """Settings from a TOML table; every problem in one :class:`DataPlaneSettingsError`."""
        table = dict(table or {})
        problems: list[str] = []
        known = {f.name for f in fields(cls)}
        for key in sorted(set(table) - known):
            problems.append(f"{prefix}.{key}: unknown setting (known: {', '.join(sorted(known))})")
        values: dict[str, Any] = {}
        d = cls()  # the defaults (slots: no class attributes to read them from)

        def bad(key: str, message: str) -> None:
            problems.append(f"{prefix}.{key}: {message}")

        mode = table.get("mode", d.mode)
        if not isinstance(mode, str) or mode not in MODES:
            bad("mode", f"must be one of {', '.join(MODES)} (got {mode!r})")
        else:
            values["mode"] = mode

        window = table.get("replay_window", d.replay_window)
        if not _is_int(window) or not 64 <= window <= 4096:
            bad("replay_window", f"must be a whole number of packets from 64 to 4096, the "
                                 f"largest window the kernel's ESN bitmap holds (got {window!r})")
        else:
            values["replay_window"] = window

        for kind in ("seconds", "bytes", "packets"):
            soft_key, hard_key = f"soft_lifetime_{kind}", f"hard_lifetime_{kind}"
            soft = table.get(soft_key, getattr(d, soft_key))
            hard = table.get(hard_key, getattr(d, hard_key))
            ok = True
            for key, value in ((soft_key, soft), (hard_key, hard)):
                if not _is_int(value) or not 0 <= value < 2 ** 64 - 1:
                    bad(key, f"must be a whole number of {kind} >= 0, 0 for no limit "
                             f"(got {value!r})")
                    ok = False
            if ok and soft and hard and soft >= hard:
                bad(soft_key, f"must be below {hard_key} ({soft} >= {hard}): the rekey has "
                              f"to start before the Child SA dies")
                ok = False
            if ok:
                values[soft_key], values[hard_key] = soft, hard

        tun = table.get("tun_name", d.tun_name)
        if not isinstance(tun, str) or not 1 <= len(tun.encode()) <= 15 or tun in (".", "..") \
                or any(c in tun for c in "/:% \t\n") or not tun.isprintable():
            bad("tun_name", f"must be a network interface name of 1 to 15 characters without "
                            f"'/', ':', '%' or spaces (got {tun!r})")
        else:
            values["tun_name"] = tun

        updown = table.get("updown", d.updown)
        if updown is not None and updown != "":
            if not isinstance(updown, str) or not os.path.isabs(updown):
                bad("updown", f"must be the absolute path of an executable script "
                              f"(got {updown!r})")
            else:
                values["updown"] = updown
        else:
            values["updown"] = None

        timeout = table.get("updown_timeout", d.updown_timeout)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) \
                or not 0 < timeout <= 600:
            bad("updown_timeout", f"must be a number of seconds above 0 and at most 600 "
                                  f"(got {timeout!r})")
        else:
            values["updown_timeout"] = float(timeout)

        if problems:
            raise DataPlaneSettingsError(problems)
        return cls(**values)

    def lifetimes(self) -> Lifetimes:
        return Lifetimes(self.soft_lifetime_seconds, self.hard_lifetime_seconds,
                         self.soft_lifetime_bytes, self.hard_lifetime_bytes,
                         self.soft_lifetime_packets, self.hard_lifetime_packets)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---- the kernel probe's result and the choice of mode ----------------------------------------

ESP = "esp"  # the kernel installs ESP SAs: kernel mode works
NO_XFRM = "no-xfrm"  # no NETLINK_XFRM socket, or it answers no XFRM request
NO_ESP = "no-esp"  # XFRM answers, but adding an ESP SA fails with EPROTONOSUPPORT
NOT_PERMITTED = "not-permitted"  # XFRM answers, but we may not add SAs (no CAP_NET_ADMIN)
NO_ALGORITHMS = "no-algorithms"  # ESP exists, but none of our transforms' algorithms does
FAILED = "failed"  # anything else (the detail says what)


@dataclass(frozen=True, slots=True)
class KernelProbe:
    """What the kernel said when asked to carry ESP: ``support`` is one of the constants
    above, ``detail`` the evidence in the kernel's words, ``algorithms`` the kernel names of
    the transforms it accepted (e.g. "rfc4106(gcm(aes))") and ``missing`` those it refused."""

    support: str
    detail: str
    algorithms: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()

    @property
    def usable(self) -> bool:
        return self.support == ESP


_WHY = {
    NO_XFRM: "the kernel has no XFRM",
    NO_ESP: "the kernel has XFRM but no ESP",
    NOT_PERMITTED: "the kernel has XFRM but ikeeap may not add SAs (it needs CAP_NET_ADMIN)",
    NO_ALGORITHMS: "the kernel has ESP but none of the ESP algorithms ikeeap negotiates",
    FAILED: "the kernel's XFRM could not be probed",
}


@dataclass(frozen=True, slots=True)
class ModeChoice:
    mode: str  # "kernel", "userspace" or "none"
    sentence: str  # the one log line saying which and why


def choose_mode(mode: str, probe: KernelProbe | None) -> ModeChoice:
    """The data plane to run for ``mode`` given the probe (only ``auto`` and ``kernel`` need
    one). Raises :class:`DataPlaneUnavailable` for ``kernel`` where the kernel cannot."""
    if mode == "none":
        return ModeChoice("none", "data plane: none (configured): Child SAs are negotiated "
                                  "but carry no traffic")
    if mode == "userspace":
        return ModeChoice("userspace", "data plane: userspace ESP over TUN (configured)")
    if mode not in ("auto", "kernel"):
        raise ValueError(f"unknown data plane mode {mode!r}")
    if probe is None:
        raise ValueError(f"mode {mode!r} needs the kernel probe's result")
    if probe.usable:
        extra = f"; not available: {', '.join(sorted(probe.missing))}" if probe.missing else ""
        how = "configured" if mode == "kernel" else "auto"
        return ModeChoice("kernel", f"data plane: kernel XFRM ({how}: the kernel installs ESP "
                                    f"SAs: {probe.detail}{extra})")
    why = f"{_WHY.get(probe.support, _WHY[FAILED])}: {probe.detail}"
    if mode == "kernel":
        raise DataPlaneUnavailable(f'data plane mode "kernel" cannot start: {why}; use '
                                   f'mode = "auto" or "userspace" for ikeeap\'s userspace ESP')
    return ModeChoice("userspace", f"data plane: userspace ESP over TUN (auto: {why})")
