"""The IKE SA state table: the transitions the responder uses, and nothing else."""

from __future__ import annotations

import itertools

import pytest

from ikeeap.initiator.loopback import Loopback
from ikeeap.ike.sa_states import TRANSITIONS, IllegalTransition, SaState, next_state

ALLOWED = {(SaState.HALF_OPEN, SaState.AUTHENTICATING), (SaState.HALF_OPEN, SaState.CLOSED),
           (SaState.AUTHENTICATING, SaState.ESTABLISHED),
           (SaState.AUTHENTICATING, SaState.CLOSED), (SaState.ESTABLISHED, SaState.CLOSED)}


@pytest.mark.parametrize("current,wanted", list(itertools.product(SaState, SaState)))
def test_only_the_protocols_transitions_are_allowed(current, wanted):
    if (current, wanted) in ALLOWED:
        assert next_state(current, wanted) is wanted
    else:
        with pytest.raises(IllegalTransition, match=f"from {current.value} to {wanted.value}"):
            next_state(current, wanted)


def test_every_state_is_in_the_table_and_closed_is_final():
    assert set(TRANSITIONS) == set(SaState) and TRANSITIONS[SaState.CLOSED] == {}


def test_a_login_walks_the_table(settings, client):
    loop = Loopback(settings)
    assert loop.login(client()).established
    sa = loop.responder.sas()[0]
    assert sa.state is SaState.ESTABLISHED
    with pytest.raises(IllegalTransition):
        sa.move_to(SaState.AUTHENTICATING)
    loop.responder.terminate(sa.id, loop.now)
    assert sa.state is SaState.CLOSED
