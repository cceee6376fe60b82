"""EAP-pwd (RFC 5931): server method, shared computations and the password extension point."""

from .server import PwdMethod

__all__ = ["PwdMethod"]
