"""Where an IKE SA stands and how it may move on, in one table (as h11's ``_state.py`` does):
every change of ``IkeSa.state`` goes through :func:`next_state`, so a transition the protocol
does not have is a loud error, not a silently odd SA."""

from __future__ import annotations

import enum


class SaState(enum.Enum):
    HALF_OPEN = "half-open"      # IKE_SA_INIT answered, no IKE_AUTH yet
    AUTHENTICATING = "authenticating"
    ESTABLISHED = "established"
    CLOSED = "closed"            # kept briefly to answer retransmits of the last response


class EapPhase(enum.Enum):
    """Where the EAP conversation of an IKE_AUTH stands (RFC 7296 §2.16)."""

    RUNNING = "running"          # requests and responses still being exchanged
    SUCCEEDED = "succeeded"      # EAP-Success sent: the AUTH keyed from the MSK comes next
    FAILED = "failed"            # EAP-Failure sent, or a success refused afterwards


# state -> {next state: what moves it there}
TRANSITIONS: dict[SaState, dict[SaState, str]] = {
    SaState.HALF_OPEN: {SaState.AUTHENTICATING: "the first IKE_AUTH request",
                        SaState.CLOSED: "a refused IKE_AUTH, a timeout or a termination"},
    SaState.AUTHENTICATING: {SaState.ESTABLISHED: "the AUTH payloads verified",
                             SaState.CLOSED: "a failed login, a timeout or a termination"},
    SaState.ESTABLISHED: {SaState.CLOSED: "a Delete, a termination, reauth_time or a dead peer"},
    SaState.CLOSED: {},
}


class IllegalTransition(RuntimeError):
    """A state change the table does not allow (a bug in the core, never peer input)."""


def next_state(current: SaState, wanted: SaState) -> SaState:
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(f"IKE SA cannot go from {current.value} to {wanted.value}")
    return wanted
