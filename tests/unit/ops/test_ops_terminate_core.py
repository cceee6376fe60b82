"""The core's administrative terminate: an INFORMATIONAL DELETE the initiator accepts,
with the responder's own message IDs, through the liveness request machinery."""

from ikeeap.ike.events import IkeSaDeleted
from ikeeap.ike.sa import SaState
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.initiator import InitiatorState
from ikeeap.initiator.loopback import Loopback
from ikeeap.initiator.testing import make_settings

USERS = {"alice": "pw-alice-1", "bob": "pw-bob-2"}


def _login(loop: Loopback, user: str):
    result = loop.login(InitiatorConfig(identity=user, eap_identity=user,
                                        password=USERS[user]))
    assert result.established
    return result.initiator if hasattr(result, "initiator") else loop.initiators[-1]


def test_terminate_sends_delete_and_the_initiator_closes():
    loop = Loopback(make_settings(USERS))
    ini = _login(loop, "alice")
    sa_id = ini.result.spi_r.hex()
    out = loop.responder.terminate(sa_id, loop.now, "terminated by administrator")
    assert len(out) == 1 and out[0].remote == ini.local
    loop.to_initiators(out)
    loop.pump()
    assert ini.state == InitiatorState.CLOSED
    assert loop.responder.get_sa(sa_id).state == SaState.CLOSED
    deleted = [e for e in loop.events if isinstance(e, IkeSaDeleted)]
    assert deleted and deleted[-1].reason == "terminated by administrator"
    assert loop.responder.count(SaState.ESTABLISHED) == 0


def test_terminate_all_deletes_every_established_sa_and_frees_addresses():
    settings = make_settings(USERS)
    loop = Loopback(settings)
    a, b = _login(loop, "alice"), _login(loop, "bob")
    pool = next(iter(settings.pools.values()))
    assert pool.leased == 2
    out = loop.responder.terminate_all(loop.now)
    assert {d.remote for d in out} == {a.local, b.local}
    loop.to_initiators(out)
    loop.pump()
    assert a.state == b.state == InitiatorState.CLOSED
    assert pool.leased == 0


def test_terminate_unknown_or_closed_sa_is_a_no_op():
    loop = Loopback(make_settings(USERS))
    ini = _login(loop, "alice")
    sa_id = ini.result.spi_r.hex()
    assert loop.responder.terminate("00" * 8, loop.now) == []
    assert loop.responder.terminate("not-hex", loop.now) == []
    assert loop.responder.terminate(sa_id, loop.now)
    assert loop.responder.terminate(sa_id, loop.now) == []  # already closed
