"""EAP: packet codec, the EapMethod interface, the authenticator, the registry,
credential providers, built-in server methods (``methods/``) and peer methods (``peer/``)."""

from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.credentials import (
    LocalUserStore,
    PasswordLookup,
    PasswordVerifier,
    Providers,
    UserCredential,
)
from ikeeap.eap.method import EapContext, EapMethod, EapStep, StepKind
from ikeeap.eap.packet import EapCode, EapPacket, EapParseError, EapType, parse_eap
from ikeeap.eap.registry import MethodRegistry, RegistryError

__all__ = [
    "EapAuthenticator",
    "EapCode",
    "EapContext",
    "EapMethod",
    "EapOutput",
    "EapPacket",
    "EapParseError",
    "EapStep",
    "EapType",
    "LocalUserStore",
    "MethodRegistry",
    "PasswordLookup",
    "PasswordVerifier",
    "Providers",
    "RegistryError",
    "StepKind",
    "UserCredential",
    "parse_eap",
]
