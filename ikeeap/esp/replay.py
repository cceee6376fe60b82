"""The inbound anti-replay window (RFC 4303 §3.4.3) and ESN inference (RFC 4303 Appendix A).

The window is a Python int used as a bitmap: bit k set means sequence number ``top - k`` has
been received (bit 0 is ``top`` itself). ``check`` runs before the ICV is verified and changes
nothing; ``accept`` runs only after the ICV has verified (§3.4.3: the window is updated only
for authenticated packets).
"""

from __future__ import annotations

__all__ = ["MAX_WINDOW", "OLD", "REPLAYED", "ReplayWindow"]

MAX_WINDOW = 4096
REPLAYED = -1  # check(): seen before
OLD = -2  # check(): left of the window (or an impossible ESN value)
_LOW = 0xFFFFFFFF


class ReplayWindow:
    """One inbound SA's window of ``size`` sequence numbers (32 or 64 bits with ``esn``)."""

    __slots__ = ("size", "esn", "top", "bits", "_mask")

    def __init__(self, size: int = 64, esn: bool = False) -> None:
        if not 32 <= size <= MAX_WINDOW:
            raise ValueError(f"replay window must be 32..{MAX_WINDOW} packets")
        self.size = size
        self.esn = esn
        self.top = 0  # the highest authenticated sequence number so far
        self.bits = 1  # sequence number 0 is never valid: treat it as seen
        self._mask = (1 << size) - 1

    def infer(self, seq_lo: int) -> int:
        """The full sequence number for a received low half (RFC 4303 Appendix A2.2); -1 when
        it would lie below zero (a packet from before the SA started)."""
        if not self.esn:
            return seq_lo
        top, w = self.top, self.size
        tl, th = top & _LOW, top >> 32
        if tl >= w - 1:  # Case A: the window lies within one 2^32 subspace
            hi = th if seq_lo >= tl - w + 1 else th + 1
        else:  # Case B: the window spans two subspaces
            hi = th - 1 if seq_lo >= ((tl - w + 1) & _LOW) else th
        if hi < 0:
            return -1
        return (hi << 32) | seq_lo

    def check(self, seq_lo: int) -> int:
        """The full sequence number if the packet may be new, else REPLAYED or OLD."""
        seq = self.infer(seq_lo)
        if seq < 0:
            return OLD
        top = self.top
        if seq > top:
            return seq
        diff = top - seq
        if diff >= self.size:
            return OLD
        if (self.bits >> diff) & 1:
            return REPLAYED
        return seq

    def accept(self, seq: int) -> None:
        """Record an authenticated ``seq`` that ``check`` let through."""
        top = self.top
        if seq > top:
            shift = seq - top
            self.bits = ((self.bits << shift) | 1) & self._mask if shift < self.size else 1
            self.top = seq
        else:
            self.bits |= 1 << (top - seq)
