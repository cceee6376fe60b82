"""LdapDirectory / LdapPasswordVerifier against ldap3's in-memory MOCK_SYNC directory.

Proves the search-then-bind logic without a server: exactly one entry, escaped filters,
group rule, empty passwords refused before any connection, failover to the next server,
and that a failing or full thread pool is a clean refusal.  (Real slapd: tests/interop.)
"""

from __future__ import annotations

import asyncio

import ldap3
import pytest
from ldap3.core.exceptions import LDAPSocketOpenError

from ikeeap.backends.ldap.config import LdapConfig, parse_server_url
from ikeeap.backends.ldap.directory import CheckResult, LdapDirectory
from ikeeap.backends.ldap.verifier import LdapPasswordVerifier

PEOPLE = "ou=people,dc=example,dc=test"
GROUP = "cn=vpn-users,ou=groups,dc=example,dc=test"
SERVICE = "cn=svc,dc=example,dc=test"


def _dit() -> ldap3.Server:
    server = ldap3.Server("mock")
    conn = ldap3.Connection(server, client_strategy=ldap3.MOCK_SYNC)
    conn.strategy.add_entry(SERVICE, {"objectClass": "person", "userPassword": "svc-pw",
                                      "sn": "svc"})
    for uid, pw in (("alice", "alice-pw"), ("bob", "bob-pw"), ("twin", "a"), ("twin2", "b")):
        conn.strategy.add_entry(f"uid={uid},{PEOPLE}", {
            "objectClass": "inetOrgPerson", "uid": uid, "userPassword": pw, "sn": uid,
            "cn": "twin" if uid.startswith("twin") else uid})
    conn.strategy.add_entry(GROUP, {"objectClass": "groupOfNames",
                                    "member": [f"uid=alice,{PEOPLE}"]})
    return server


class Factory:
    """Connection factory over the mock DIT; ``down`` addresses raise like a dead server."""

    def __init__(self, down: tuple[str, ...] = ()) -> None:
        self.server = _dit()
        self.down = down
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, address, user, password, connect_timeout, receive_timeout):
        self.calls.append((address.host, user))
        if address.host in self.down:
            raise LDAPSocketOpenError("unreachable")
        return ldap3.Connection(self.server, user=user, password=password,
                                client_strategy=ldap3.MOCK_SYNC)


def _config(**kw) -> LdapConfig:
    base = dict(servers=(parse_server_url("ldap://primary", "none"),), base_dn=PEOPLE,
                filter="(uid={user})", bind_dn=SERVICE, bind_password="svc-pw", tls="none")
    base.update(kw)
    return LdapConfig(**base)


def test_correct_password_accepted_wrong_refused():
    directory = LdapDirectory(_config(), Factory())
    assert directory.check_password("alice", "alice-pw") is CheckResult.ACCEPT
    assert directory.check_password("alice", "bob-pw") is CheckResult.REJECT
    assert directory.check_password("nobody", "x") is CheckResult.REJECT


def test_empty_password_refused_before_any_connection():
    factory = Factory()
    assert LdapDirectory(_config(), factory).check_password("alice", "") is CheckResult.REJECT
    assert factory.calls == []
    verifier = LdapPasswordVerifier(_config(), _must_not_run, factory)
    assert not asyncio.run(verifier.verify("alice", ""))


@pytest.mark.parametrize("user", ["*", "alice)(uid=*", "al*", "alice)(|(uid=*"])
def test_filter_injection_matches_nothing(user):
    factory = Factory()
    assert LdapDirectory(_config(), factory).check_password(user, "alice-pw") \
        is CheckResult.REJECT
    assert all(dn in (SERVICE,) for _, dn in factory.calls)  # never bound as a user


def test_two_matching_entries_are_refused():
    directory = LdapDirectory(_config(filter="(cn={user})"), Factory())
    assert directory.check_password("twin", "a") is CheckResult.REJECT


def test_group_rule():
    directory = LdapDirectory(_config(group_dn=GROUP), Factory())
    assert directory.check_password("alice", "alice-pw") is CheckResult.ACCEPT
    assert directory.check_password("bob", "bob-pw") is CheckResult.REJECT


def test_failover_to_second_server_and_all_down():
    servers = (parse_server_url("ldap://dead", "none"), parse_server_url("ldap://live", "none"))
    factory = Factory(down=("dead",))
    directory = LdapDirectory(_config(servers=servers), factory)
    assert directory.check_password("alice", "alice-pw") is CheckResult.ACCEPT
    assert [h for h, _ in factory.calls][:2] == ["dead", "live"]
    all_down = LdapDirectory(_config(servers=servers), Factory(down=("dead", "live")))
    assert all_down.check_password("alice", "alice-pw") is CheckResult.UNAVAILABLE


def test_wrong_service_password_is_unavailable_not_accept():
    directory = LdapDirectory(_config(bind_password="nope"), Factory())
    assert directory.check_password("alice", "alice-pw") is CheckResult.UNAVAILABLE


async def _to_thread(fn, *args):
    return await asyncio.to_thread(fn, *args)


async def _must_not_run(fn, *args):
    raise AssertionError("no blocking call expected")


async def _pool_full(fn, *args):
    raise RuntimeError("ldap thread pool full")


def test_verifier_runs_check_through_injected_executor():
    verifier = LdapPasswordVerifier(_config(), _to_thread, Factory())
    assert asyncio.run(verifier.verify("alice", "alice-pw"))
    assert not asyncio.run(verifier.verify("alice", "wrong"))


def test_verifier_refuses_cleanly_when_the_pool_fails():
    verifier = LdapPasswordVerifier(_config(), _pool_full, Factory())
    verdict = asyncio.run(verifier.verify("alice", "alice-pw"))
    assert not verdict and verdict.reason == "LDAP check did not complete: ldap thread pool full"


@pytest.mark.parametrize("user, password, config, reason", [
    ("alice", "bob-pw", {}, "wrong password for 'alice' (ldap)"),
    ("nobody", "x", {}, "unknown user 'nobody' (ldap)"),
    ("twin", "a", {"filter": "(cn={user})"}, "2 entries match 'twin' (exactly one required)"),
    ("bob", "bob-pw", {"group_dn": GROUP}, f"'bob' is not a member of {GROUP}"),
])
def test_each_refusal_says_why(user, password, config, reason):
    """The audit line used to say "authentication failed" whatever happened."""
    verdict = LdapDirectory(_config(**config), Factory()).check(user, password)
    assert verdict.result is CheckResult.REJECT and verdict.reason == reason


def test_an_unreachable_directory_is_not_reported_as_a_timeout(caplog):
    servers = (parse_server_url("ldap://dead", "none"),)
    verdict = LdapDirectory(_config(servers=servers), Factory(down=("dead",))).check(
        "alice", "alice-pw")
    assert verdict.result is CheckResult.UNAVAILABLE
    assert verdict.reason.startswith("directory unavailable (ldap://dead:389: ")
    assert "within" not in caplog.text
