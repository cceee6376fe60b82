"""Who is logged in at the IKE layer: the identity EAP proved (not IDi, not the outer EAP
identity) reaches the established event, the pool and the views; a connection's ``eap_id``
is checked against it after EAP (the connection was chosen from the unauthenticated IDi)."""

from __future__ import annotations

import ipaddress

from ikeeap.eap.methods.mschapv2 import MsChapV2Method
from ikeeap.eap.registry import MethodRegistry
from ikeeap.initiator.loopback import run_login
from ikeeap.initiator.results import InitiatorState


class ProvesCarol(MsChapV2Method):
    """EAP-MSCHAPv2 whose success names another user, like a tunnel whose inner user is carol."""

    name = "proves-carol"

    def authenticated_identity(self) -> bytes | None:
        return b"carol"


class TunnelProvesCarol(ProvesCarol):
    name = "tunnel-proves-carol"
    tunnelled = True


def _registry() -> MethodRegistry:
    registry = MethodRegistry.discover(entry_points=False)
    registry.register(ProvesCarol.name, ProvesCarol, "test")
    registry.register(TunnelProvesCarol.name, TunnelProvesCarol, "test")
    return registry


def test_the_proved_identity_is_logged_in_and_leases_the_address(settings_factory, client):
    settings = settings_factory(eap_methods=(ProvesCarol.name,), registry=_registry())
    result = run_login(settings, client(identity="alice"))
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason
    sa = result.responder_sa
    assert (sa.identity, sa.eap_identity, sa.outer_identity) == ("alice", "carol", "alice")
    assert sa.virtual_ip is not None  # the client asked for one: leased to carol
    pool, leased = settings.pools["eap"], ipaddress.IPv4Address(sa.virtual_ip)
    pool.release(leased)
    assert pool.acquire("carol") == leased  # remembered as carol's address


def test_a_tunnel_under_another_users_outer_identity_is_refused(settings_factory, client):
    settings = settings_factory(eap_methods=(TunnelProvesCarol.name,), registry=_registry())
    result = run_login(settings, client(identity="alice"))
    assert result.state != InitiatorState.ESTABLISHED
    assert result.responder_sa is None
    assert "outer identity 'alice' is neither 'carol' nor anonymous" in \
        result.auth_failure.reason


def test_outer_identity_any_lets_the_tunnel_log_in_its_inner_user(settings_factory, client):
    settings = settings_factory(eap_methods=(TunnelProvesCarol.name,), registry=_registry(),
                                connection_options={"outer_identity": "any"})
    result = run_login(settings, client(identity="alice"))
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason
    assert result.responder_sa.eap_identity == "carol"


def test_eap_id_refuses_a_user_the_connection_does_not_allow(settings_factory, client):
    settings = settings_factory(eap_methods=("mschapv2",),
                                connection_options={"eap_id": ("*@admins.example.org",)})
    result = run_login(settings, client(identity="alice"))
    assert result.state != InitiatorState.ESTABLISHED
    reason = result.auth_failure.reason
    assert "EAP identity 'alice' (IDi 'alice') is not allowed on connection 'eap'" in reason


def test_eap_id_admits_a_matching_user(settings_factory, client):
    settings = settings_factory(eap_methods=("mschapv2",),
                                connection_options={"eap_id": ("bob", "ali*")})
    result = run_login(settings, client(identity="alice"))
    assert result.state == InitiatorState.ESTABLISHED, result.failure_reason


def test_eap_id_is_checked_against_the_proved_identity(settings_factory, client):
    """IDi and the EAP identity say alice, which eap_id admits; EAP proved carol: refused."""
    settings = settings_factory(eap_methods=(ProvesCarol.name,), registry=_registry(),
                                connection_options={"eap_id": ("alice",)})
    result = run_login(settings, client(identity="alice"))
    assert result.state != InitiatorState.ESTABLISHED
    assert "EAP identity 'carol'" in result.auth_failure.reason
