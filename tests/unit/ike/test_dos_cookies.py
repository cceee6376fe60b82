"""Cookies (RFC 7296 §2.6, §2.6.1), half-open/total limits and blocking of flooding sources."""

from __future__ import annotations

import logging

from ikeeap.ike.cookies import CookieJar
from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.initiator.initiator import Initiator
from ikeeap.initiator.loopback import SERVER, Loopback, run_login
from ikeeap.wire.codec import encode_message, parse_message
from ikeeap.wire.constants import NotifyType
from ikeeap.wire.payloads import NoncePayload, NotifyPayload


def _sa_init_request(client_config, address=("198.51.100.7", 500)) -> bytes:
    return Initiator(client_config, address, SERVER).start(0.0)[0].data


def _send(responder: Responder, request: bytes, ip: str, now: float = 0.0,
          spi: int = 1) -> list:
    data = spi.to_bytes(8, "big") + request[8:]  # a different initiator SPI each time
    return responder.receive_datagram(data, SERVER, (ip, 500), now)


def _notify_types(datagram) -> list[int]:
    _, payloads = parse_message(datagram.data)
    return [p.notify_type for p in payloads if isinstance(p, NotifyPayload)]


def test_cookie_verifies_only_for_same_nonce_address_and_spi():
    jar = CookieJar(lifetime=60)
    cookie = jar.make(b"n" * 32, "192.0.2.9", b"s" * 8, now=0)
    assert len(cookie) <= 64
    assert jar.verify(cookie, b"n" * 32, "192.0.2.9", b"s" * 8, now=1)
    assert not jar.verify(cookie, b"m" * 32, "192.0.2.9", b"s" * 8, now=1)
    assert not jar.verify(cookie, b"n" * 32, "192.0.2.10", b"s" * 8, now=1)
    assert not jar.verify(cookie, b"n" * 32, "192.0.2.9", b"t" * 8, now=1)
    assert not jar.verify(cookie[:-1] + bytes([cookie[-1] ^ 1]), b"n" * 32, "192.0.2.9",
                          b"s" * 8, now=1)
    assert not jar.verify(b"", b"n" * 32, "192.0.2.9", b"s" * 8, now=1)


def test_previous_secret_accepted_for_one_rotation_only():
    jar = CookieJar(lifetime=10)
    cookie = jar.make(b"n" * 32, "192.0.2.9", b"s" * 8, now=0)
    assert jar.verify(cookie, b"n" * 32, "192.0.2.9", b"s" * 8, now=12)  # rotated once
    fresh = jar.make(b"n" * 32, "192.0.2.9", b"s" * 8, now=12)
    assert fresh != cookie
    assert not jar.verify(cookie, b"n" * 32, "192.0.2.9", b"s" * 8, now=23)  # twice
    assert jar.verify(fresh, b"n" * 32, "192.0.2.9", b"s" * 8, now=23)


def test_secret_rotates_every_lifetime_and_an_idle_jar_forgets_the_old_secret():
    args = (b"n" * 32, "192.0.2.9", b"s" * 8)
    jar = CookieJar(lifetime=10)
    first = jar.make(*args, now=0)
    assert jar.make(*args, now=9.9) == first
    second = jar.make(*args, now=10)  # exactly one lifetime: a new secret (and version)
    assert second != first and second[:4] != first[:4]
    assert jar.verify(first, *args, now=10)  # the previous one still counts
    for idle, accepted in ((15, True), (19.9, True), (20, False), (25, False)):
        jar = CookieJar(lifetime=10)
        cookie = jar.make(*args, now=0)
        # no request for ``idle`` seconds: after two lifetimes the old secret is gone too
        assert jar.verify(cookie, *args, now=idle) is accepted


def test_login_succeeds_after_cookie_round(settings_factory, client):
    settings = settings_factory(hardening=Hardening(cookie_threshold=0))
    result = run_login(settings, client())
    assert result.established and result.keymat_match
    kinds = [e.kind for e in result.initiator.events]
    assert kinds.count("cookie") == 1


def test_cookie_survives_invalid_ke_retry(settings_factory, client):
    """§2.6.1: COOKIE, then INVALID_KE_PAYLOAD; the retry carries the same cookie and wins."""
    settings = settings_factory(hardening=Hardening(cookie_threshold=0),
                                ike_proposals=("aes128-sha256-ecp256",))
    result = run_login(settings, client(ike_proposals=("aes128-sha256-curve25519-ecp256",)))
    assert result.established
    kinds = [e.kind for e in result.initiator.events]
    assert kinds[:2] == ["cookie", "invalid_ke"]
    assert "cookie" not in kinds[2:]


def test_cookies_demanded_only_beyond_global_threshold(settings_factory, client):
    responder = Responder(settings_factory(hardening=Hardening(cookie_threshold=3)))
    request = _sa_init_request(client())
    for i in range(3):
        (answer,) = _send(responder, request, f"192.0.2.{i + 1}", spi=i + 1)
        assert NotifyType.COOKIE not in _notify_types(answer)
    (answer,) = _send(responder, request, "192.0.2.99", spi=99)
    assert _notify_types(answer) == [NotifyType.COOKIE]
    assert responder.dos.half_open_count() == 3 and len(responder.sas()) == 3


def test_cookies_demanded_per_source_address(settings_factory, client):
    limits = Hardening(cookie_threshold=100, cookie_threshold_per_ip=2)
    responder = Responder(settings_factory(hardening=limits))
    request = _sa_init_request(client())
    for spi in (1, 2):
        assert NotifyType.COOKIE not in _notify_types(_send(responder, request, "192.0.2.1",
                                                            spi=spi)[0])
    assert _notify_types(_send(responder, request, "192.0.2.1", spi=3)[0]) == [NotifyType.COOKIE]
    assert NotifyType.COOKIE not in _notify_types(_send(responder, request, "192.0.2.2",
                                                        spi=4)[0])


def test_half_open_and_total_limits_drop_with_a_log_line(settings_factory, client, caplog):
    caplog.set_level(logging.WARNING, "ikeeap.dos")
    limits = Hardening(max_half_open=2, cookie_threshold=100)
    responder = Responder(settings_factory(hardening=limits))
    request = _sa_init_request(client())
    assert _send(responder, request, "192.0.2.1", spi=1)
    assert _send(responder, request, "192.0.2.2", spi=2)
    assert _send(responder, request, "192.0.2.3", spi=3) == []
    assert "2 half-open SAs (max_half_open)" in caplog.text
    caplog.clear()
    responder = Responder(settings_factory(hardening=Hardening(max_ike_sas=1)))
    assert _send(responder, request, "192.0.2.1", spi=1)
    assert _send(responder, request, "192.0.2.2", spi=2) == []
    assert "1 IKE SAs (max_ike_sas)" in caplog.text


def test_flooding_source_is_blocked_then_released(settings_factory, client, caplog):
    caplog.set_level(logging.WARNING, "ikeeap.dos")
    limits = Hardening(block_threshold=5, block_window=10, block_duration=30,
                       cookie_threshold=0)
    responder = Responder(settings_factory(hardening=limits))
    request = _sa_init_request(client())
    answers = [_send(responder, request, "192.0.2.66", now=i * 0.1, spi=i) for i in range(8)]
    assert all(answers[:5]) and answers[5:] == [[], [], []]
    assert "blocking 192.0.2.66 for 30 s" in caplog.text
    assert _send(responder, request, "192.0.2.67", now=1.0, spi=50)  # others unaffected
    assert _send(responder, request, "192.0.2.66", now=20.0, spi=51) == []  # still blocked
    assert _send(responder, request, "192.0.2.66", now=31.0, spi=52)  # released


def test_half_open_count_returns_to_zero_after_timeout(settings_factory, client):
    settings = settings_factory(hardening=Hardening(cookie_threshold=100))
    responder = Responder(settings)
    request = _sa_init_request(client())
    for i in range(20):
        _send(responder, request, f"192.0.2.{i + 1}", spi=i + 1)
    assert responder.dos.half_open_count() == 20
    responder.handle_timer(settings.half_open_timeout + 1)
    assert responder.dos.half_open_count() == 0 and responder.sas() == []


def test_established_sa_is_no_longer_half_open(settings_factory, client):
    loop = Loopback(settings_factory())
    result = loop.login(client())
    assert result.established
    assert loop.responder.dos.half_open_count() == 0


# ---- what a COOKIE must be (RFC 7296 §2.6) ---------------------------------------------------


def _with_notifies(request: bytes, before: list, after: list = ()) -> bytes:
    header, payloads = parse_message(request)
    return encode_message(header, [*before, *payloads, *after])


def _cookie_demanding_responder(settings_factory) -> Responder:
    return Responder(settings_factory(hardening=Hardening(cookie_threshold=0)))


def test_forged_cookie_gets_a_new_challenge_and_no_sa(settings_factory, client):
    responder = _cookie_demanding_responder(settings_factory)
    request = _sa_init_request(client())
    (challenge,) = _send(responder, request, "192.0.2.5")
    genuine = _cookie(challenge)
    for forged in (bytes(len(genuine)),  # zero-filled
                   genuine[:4] + bytes(len(genuine) - 4),  # the right secret version, no MAC
                   genuine[:-1] + bytes([genuine[-1] ^ 1])):
        cookied = _with_notifies(request, [NotifyPayload(NotifyType.COOKIE, forged)])
        (answer,) = _send(responder, cookied, "192.0.2.5")
        assert _notify_types(answer) == [NotifyType.COOKIE]
        assert parse_message(answer.data)[0].spi_r == bytes(8)  # stateless: no SA behind it
        assert responder.sas() == [] and responder.dos.half_open_count() == 0
    assert responder.cookies_sent == 4  # one per challenge (the metric)
    # the genuine cookie, as the same initiator sends it, is what gets an SA
    cookied = _with_notifies(request, [NotifyPayload(NotifyType.COOKIE, genuine)])
    (answer,) = _send(responder, cookied, "192.0.2.5")
    assert NotifyType.COOKIE not in _notify_types(answer)
    assert len(responder.sas()) == 1


def test_cookie_is_found_among_other_notifies(settings_factory, client):
    """Only the COOKIE notify is the cookie: another notify before it is not taken for one."""
    responder = _cookie_demanding_responder(settings_factory)
    request = _sa_init_request(client())
    genuine = _cookie(_send(responder, request, "192.0.2.5")[0])
    other = NotifyPayload(NotifyType.IKEV2_FRAGMENTATION_SUPPORTED)
    cookied = _with_notifies(request, [other], [NotifyPayload(NotifyType.COOKIE, genuine)])
    (answer,) = _send(responder, cookied, "192.0.2.5")
    assert NotifyType.COOKIE not in _notify_types(answer) and len(responder.sas()) == 1


def test_request_without_nonce_under_cookie_demand_is_dropped(settings_factory, client):
    responder = _cookie_demanding_responder(settings_factory)
    header, payloads = parse_message(_sa_init_request(client()))
    no_nonce = encode_message(header, [p for p in payloads if not isinstance(p, NoncePayload)])
    assert _send(responder, no_nonce, "192.0.2.5") == []
    assert responder.cookies_sent == 0 and responder.sas() == []


def _cookie(answer) -> bytes:
    _, payloads = parse_message(answer.data)
    (cookie,) = [p.data for p in payloads
                 if isinstance(p, NotifyPayload) and p.notify_type == NotifyType.COOKIE]
    return cookie


def test_cookie_secrets_are_32_random_octets_also_after_rotation():
    asked: list[int] = []

    def random(n: int) -> bytes:
        asked.append(n)
        return bytes(n)

    jar = CookieJar(lifetime=10.0, random=random)
    jar.make(b"n" * 16, "192.0.2.1", bytes(8), now=0.0)
    jar.make(b"n" * 16, "192.0.2.1", bytes(8), now=11.0)  # rotated: one fresh secret
    assert asked == [4, 32, 32]
