"""Fixtures for in-memory logins against the real Responder (ikeeap.initiator.loopback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ikeeap.ike.settings import ResponderSettings
from ikeeap.initiator.config import InitiatorConfig
from ikeeap.initiator.testing import Pki, make_pki, make_settings

USERS = {"alice": "secret", "bob": "hunter2"}
PSK = "a pre-shared key of decent length"


@pytest.fixture
def psk() -> str:
    return PSK


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki("ecdsa")


@pytest.fixture(scope="session")
def rsa_pki() -> Pki:
    return make_pki("rsa")


@pytest.fixture
def settings_factory(pki: Pki) -> Callable[..., ResponderSettings]:
    """make_settings with the test users, a PSK connection and the session's ECDSA PKI."""

    def build(**kwargs: Any) -> ResponderSettings:
        kwargs.setdefault("users", USERS)
        kwargs.setdefault("psk", PSK)
        kwargs.setdefault("pki", pki)
        return make_settings(**kwargs)

    return build


@pytest.fixture
def settings(settings_factory: Callable[..., ResponderSettings]) -> ResponderSettings:
    return settings_factory()


@pytest.fixture
def client(pki: Pki) -> Callable[..., InitiatorConfig]:
    """An EAP-MSCHAPv2 client for alice trusting the test CA; keyword arguments override."""

    def build(**kwargs: Any) -> InitiatorConfig:
        kwargs.setdefault("identity", "alice")
        kwargs.setdefault("password", USERS.get(kwargs["identity"], "secret"))
        kwargs.setdefault("ca_certificate", pki.ca.der)
        return InitiatorConfig(**kwargs)

    return build
