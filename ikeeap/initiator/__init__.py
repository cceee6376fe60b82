"""A sans-I/O IKEv2 initiator (tests, the method-author kit, load generation) and an
in-memory loopback that drives it against the real Responder."""

from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.initiator import Initiator
from ikeeap.initiator.loopback import LoginResult, Loopback, run_login
from ikeeap.initiator.results import (
    ChildResult,
    InitiatorEvent,
    InitiatorResult,
    InitiatorState,
)

__all__ = [
    "ChildResult",
    "Initiator",
    "InitiatorConfig",
    "InitiatorEvent",
    "InitiatorResult",
    "InitiatorState",
    "LoginResult",
    "Loopback",
    "run_login",
]
