"""The load generator's sans-I/O core against the real Responder, in memory (fake clock):
logins of every method complete, rate and concurrency are honoured, SAs are kept or
deleted as asked, lost datagrams are retransmitted and counted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ikeeap.ike.hardening import Hardening
from ikeeap.ike.responder import Responder
from ikeeap.ike.sa import SaState
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.testing import make_pki, make_settings
from ikeeap.loadgen.driver import LoadDriver, LoadPlan
from ikeeap.loadgen.inmemory import pump

USERS = {f"user{n}": f"pw{n}" for n in range(1, 6)}
PSK = "a load-test pre-shared key"
LOCALS = [("198.51.100.2", 40000 + n) for n in range(4)]
SERVER = ("198.51.100.1", 500)
NO_LIMITS = Hardening(cookie_threshold=10**6, cookie_threshold_per_ip=10**6,
                      max_half_open_per_ip=10**6, block_threshold=0)


@pytest.fixture(scope="module")
def pki():
    return make_pki("ecdsa")


def _responder(pki, methods=("mschapv2", "md5", "gtc")) -> Responder:
    return Responder(make_settings(users=USERS, eap_methods=methods, pki=pki, psk=PSK,
                                   hardening=NO_LIMITS))


def _configs(pki, **kw) -> list[InitiatorConfig]:
    return [InitiatorConfig(identity=u, password=p, ca_certificate=pki.ca.der, **kw)
            for u, p in USERS.items()]


@pytest.mark.parametrize("method", ["mschapv2", "md5", "gtc"])
def test_every_eap_method_logs_in_and_exchanges_are_timed(pki, method):
    responder = _responder(pki)
    driver = LoadDriver(LoadPlan(total=12, concurrency=4), _configs(pki, eap_methods=(method,)),
                        LOCALS, SERVER, 0.0)
    pump(driver, responder)
    s = driver.stats.summary(1.0)
    assert (s.established, s.failed, s.in_flight) == (12, 0, 0), s.lines()
    assert s.exchanges["IKE_SA_INIT"][0] == 12
    assert s.exchanges["IKE_AUTH"][0] >= 12 * 4  # IDi, EAP rounds, final AUTH
    assert responder.count(SaState.ESTABLISHED) == 0  # each deleted after its login


def test_psk_logins_and_keep_leaves_sas_on_the_responder(pki):
    responder = _responder(pki)
    configs = [InitiatorConfig(identity=f"d{n}.psk.test", psk=PSK) for n in range(3)]
    driver = LoadDriver(LoadPlan(total=9, concurrency=3, keep=True), configs, LOCALS, SERVER,
                        0.0)
    pump(driver, responder)
    assert driver.stats.established == 9 and driver.stats.failed == 0
    assert responder.count(SaState.ESTABLISHED) == 9


def test_rate_spaces_the_starts_and_concurrency_bounds_in_flight(pki):
    driver = LoadDriver(LoadPlan(total=100, concurrency=3, rate=10.0), _configs(pki),
                        LOCALS, SERVER, 0.0)
    started = [len(driver.poll(t)) for t in (0.0, 0.05, 0.1, 0.25)]
    assert started == [1, 0, 1, 1]  # one every 100 ms (at 0.25 s the third is due)
    assert driver.in_flight == 3
    driver.poll(0.9)  # seven more would be due by now: capped by the concurrency
    assert driver.in_flight == 3 and driver.stats.started == 3


def test_lost_responses_are_retransmitted_and_counted(pki):
    responder = _responder(pki)
    dropped: set[bytes] = set()
    real = responder.receive_datagram

    def lossy(data, local, remote, now):  # lose the first answer to each IKE_SA_INIT
        out = real(data, local, remote, now)
        if data[18] == 34 and data[:8] not in dropped:
            dropped.add(data[:8])
            return []
        return out

    responder.receive_datagram = lossy  # type: ignore[method-assign]
    configs = [replace(c, retransmit_timeout=0.5) for c in _configs(pki)]
    driver = LoadDriver(LoadPlan(total=5, concurrency=5), configs, LOCALS, SERVER, 0.0)
    pump(driver, responder)
    assert driver.stats.established == 5
    assert driver.stats.retransmits == 5


def test_a_dead_responder_ends_in_counted_failures(pki):
    class Silent:
        def receive_datagram(self, *a):
            return []

        def next_event(self):
            return None

        def get_timer(self):
            return None

        def handle_timer(self, now):
            return []

    configs = [replace(c, retransmit_timeout=0.1, retransmit_tries=1) for c in _configs(pki)]
    driver = LoadDriver(LoadPlan(total=3, concurrency=3), configs, LOCALS, SERVER, 0.0)
    pump(driver, Silent())
    s = driver.stats.summary(1.0)
    assert (s.established, s.failed) == (0, 3)
    assert list(s.failures) == ["timeout waiting for the IKE_SA_INIT response"]
    assert s.retransmits == 3


def test_the_run_stops_at_its_duration_and_counts_the_unfinished(pki):
    driver = LoadDriver(LoadPlan(total=10, concurrency=2, duration=1.0), _configs(pki),
                        LOCALS, SERVER, 0.0)
    driver.poll(0.0)
    assert driver.done(1.0)
    driver.finish(1.0)
    assert driver.stats.failed == 2 and driver.in_flight == 0
