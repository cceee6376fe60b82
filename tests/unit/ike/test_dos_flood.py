"""50,000 spoofed-source IKE_SA_INIT requests straight into Responder.receive_datagram:
memory stays flat, a real login in the middle gets in after the cookie round, and the state
count returns to normal once the half-open SAs time out."""

from __future__ import annotations

import gc
import time
import tracemalloc

from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.initiator import Initiator
from ikeeap.initiator.loopback import SERVER, Loopback

FLOOD = 50_000
THRESHOLD = 50


def _spoofed(i: int) -> tuple[str, int]:
    return (f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", 500 + i % 1000)


def test_spoofed_flood_keeps_memory_and_state_bounded(settings_factory, client):
    settings = settings_factory(hardening=Hardening(cookie_threshold=THRESHOLD))
    responder = Responder(settings)
    loop = Loopback(responder)
    template = Initiator(client(), ("198.51.100.200", 500), SERVER).start(0.0)[0].data
    started = time.monotonic()
    cookies = 0
    peak_sas = 0
    tracemalloc.start()
    try:
        for i in range(FLOOD):
            now = i * 0.0002  # 10 s of fake time
            data = (i + 1).to_bytes(8, "big") + template[8:]
            out = responder.receive_datagram(data, SERVER, _spoofed(i), now)
            cookies += len(out[0].data) < 100 if out else 0
            if i == 5_000:
                gc.collect()
                baseline, _ = tracemalloc.get_traced_memory()
            if i == FLOOD // 2:
                loop.now = now
                login = loop.login(client())
                tracemalloc.reset_peak()
            peak_sas = max(peak_sas, len(responder.sas()))
        gc.collect()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started
    print(f"\nflood: {FLOOD} requests in {elapsed:.1f} s, {cookies} COOKIE answers, "
          f"peak SAs {peak_sas}, traced memory {baseline / 1e6:.2f} -> {current / 1e6:.2f} MB "
          f"(peak {peak / 1e6:.2f} MB)")
    assert login.established and login.keymat_match
    assert [e.kind for e in login.initiator.events].count("cookie") == 1
    assert cookies >= FLOOD - THRESHOLD - 10
    assert peak_sas <= THRESHOLD + 1  # the flood's half-open SAs and the real login
    assert current - baseline < 1_000_000  # flat: no per-source state
    assert elapsed < 60
    loop.advance(settings.half_open_timeout + 1)  # half-open SAs time out
    assert responder.dos.half_open_count() == 0
    assert [sa.id for sa in responder.sas()] == [login.result.spi_r.hex()]
