"""Admission control for IKE_SA_INIT: limits, blocking of flooding sources, cookie demand.

Memory stays bounded whatever the number of (spoofed) source addresses: request rates are
counted in a fixed array of hashed buckets, per-address half-open counts exist only for SAs
that were actually created (bounded by ``max_half_open``), and the block list has a cap.
"""

from __future__ import annotations

import enum
import logging
from array import array

from .hardening import Hardening

log = logging.getLogger("ikeeap.dos")

RATE_BUCKETS = 1 << 16
MAX_BLOCKED = 4096
LOG_INTERVAL = 5.0  # seconds between repeated "limit hit" lines


class Admission(enum.Enum):
    ACCEPT = "accept"      # go on (a COOKIE may still be demanded: see cookie_required)
    DROP = "drop"          # silently ignore, a log line was written (rate-limited)


class RateCounter:
    """Requests per address in the current window, in hashed buckets (constant memory)."""

    def __init__(self, window: float, size: int = RATE_BUCKETS):
        self._window = window
        self._size = size
        self._counts = array("I", bytes(4 * size))
        self._started = float("-inf")

    def hit(self, ip: str, now: float) -> int:
        if now - self._started >= self._window:
            self._counts = array("I", bytes(4 * self._size))
            self._started = now
        index = hash(ip) % self._size  # str hashes are salted per process
        count = min(self._counts[index] + 1, 0xFFFFFFFF)
        self._counts[index] = count
        return count


class DosGuard:
    def __init__(self, limits: Hardening):
        self.limits = limits
        self._rates = RateCounter(limits.block_window)
        self._blocked: dict[str, float] = {}  # address -> blocked until
        self._half_open: dict[bytes, str] = {}  # SPIr -> address, until authenticated
        self._half_open_by_ip: dict[str, int] = {}
        self._cookies_on = False
        self._last_log: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    # ---- decisions -------------------------------------------------------------------

    def admit(self, ip: str, total_sas: int, now: float) -> Admission:
        """Blocks, rate and hard limits, checked before the request is even parsed."""
        until = self._blocked.get(ip)
        if until is not None:
            if now < until:
                return Admission.DROP
            del self._blocked[ip]
            log.info("%s no longer blocked", ip)
        count = self._rates.hit(ip, now)
        lim = self.limits
        if lim.block_threshold and count > lim.block_threshold:
            self._block(ip, count, now)
            return Admission.DROP
        if total_sas >= lim.max_ike_sas:
            self._limited("max_ike_sas", now, "%d IKE SAs (max_ike_sas): dropping "
                          "IKE_SA_INIT from %s", total_sas, ip)
            return Admission.DROP
        if len(self._half_open) >= lim.max_half_open:
            self._limited("max_half_open", now, "%d half-open SAs (max_half_open): dropping "
                          "IKE_SA_INIT from %s", len(self._half_open), ip)
            return Admission.DROP
        if self._half_open_by_ip.get(ip, 0) >= lim.max_half_open_per_ip:
            self._limited("max_half_open_per_ip", now, "%s has %d half-open SAs "
                          "(max_half_open_per_ip): dropping IKE_SA_INIT", ip,
                          self._half_open_by_ip[ip])
            return Admission.DROP
        return Admission.ACCEPT

    def cookie_required(self, ip: str) -> bool:
        lim = self.limits
        overall = len(self._half_open) >= lim.cookie_threshold
        if overall != self._cookies_on:
            self._cookies_on = overall
            if overall:
                log.warning("cookies required: %d half-open SAs (cookie_threshold %d)",
                            len(self._half_open), lim.cookie_threshold)
            else:
                log.warning("cookies no longer required: %d half-open SAs",
                            len(self._half_open))
        return overall or self._half_open_by_ip.get(ip, 0) >= lim.cookie_threshold_per_ip

    # ---- bookkeeping -----------------------------------------------------------------

    def sa_created(self, spi_r: bytes, ip: str) -> None:
        self._half_open[spi_r] = ip
        self._half_open_by_ip[ip] = self._half_open_by_ip.get(ip, 0) + 1

    def sa_removed(self, spi_r: bytes) -> None:
        """The SA proved it is not spoofed (a request passed the ICV) or is gone."""
        ip = self._half_open.pop(spi_r, None)
        if ip is None:
            return
        left = self._half_open_by_ip[ip] - 1
        if left:
            self._half_open_by_ip[ip] = left
        else:
            del self._half_open_by_ip[ip]

    sa_authenticated = sa_removed

    def half_open_count(self) -> int:
        return len(self._half_open)

    def blocked_count(self) -> int:
        return len(self._blocked)

    # ---- internals -------------------------------------------------------------------

    def _block(self, ip: str, count: int, now: float) -> None:
        if len(self._blocked) >= MAX_BLOCKED:
            self._blocked = {a: t for a, t in self._blocked.items() if t > now}
        if len(self._blocked) >= MAX_BLOCKED:
            return  # the rate bucket still drops this source for the rest of the window
        self._blocked[ip] = now + self.limits.block_duration
        log.warning("blocking %s for %.0f s: %d IKE_SA_INIT in %.0f s (block_threshold %d)",
                    ip, self.limits.block_duration, count, self.limits.block_window,
                    self.limits.block_threshold)

    def _limited(self, key: str, now: float, message: str, *args: object) -> None:
        """Log a limit hit at most every LOG_INTERVAL seconds, with how many were hidden."""
        if now - self._last_log.get(key, float("-inf")) < LOG_INTERVAL:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        hidden = self._suppressed.pop(key, 0)
        self._last_log[key] = now
        log.warning("limit: " + message + (f" ({hidden} more since last line)" if hidden
                                           else ""), *args)
