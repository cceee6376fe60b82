"""The start-up hint names what a client configures, not the server-side method name."""

from __future__ import annotations

import pytest

from ikeeap.cli import client_auth_hint
from ikeeap.eap.registry import MethodRegistry


@pytest.mark.parametrize("method, hint", [
    ("mschapv2", "eap-mschapv2"), ("md5", "eap-md5"), ("gtc", "eap-gtc"), ("ttls", "eap-ttls"),
    ("tls", "eap-tls"), ("sim", "eap-sim"),
    ("radius", "eap"),  # pass-through: the RADIUS server picks; "eap-radius" is server-side
    ("no-such-method", "eap"),
])
def test_client_auth_hint(method, hint):
    registry = MethodRegistry.discover(entry_points=False)
    assert client_auth_hint(registry, method) == hint
