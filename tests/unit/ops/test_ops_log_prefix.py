"""SA prefixes on log lines: one prefix, never "[sa peer] [peer]"."""

from __future__ import annotations

import logging

from ikeeap.logs import SaContextFilter, sa_context


def _filtered(msg: str, *args: object) -> str:
    record = logging.LogRecord("ikeeap.eap", logging.INFO, __file__, 1, msg, args, None)
    SaContextFilter().filter(record)
    return record.getMessage()


def test_a_peer_prefix_is_replaced_by_the_sa_prefix():
    token = sa_context.set("[e0dff8db 127.0.0.1:47636]")
    try:
        assert _filtered("[%s] EAP-TTLS/PAP: %r authenticated", "127.0.0.1:47636", "alice") \
            == "[e0dff8db 127.0.0.1:47636] EAP-TTLS/PAP: 'alice' authenticated"
        assert _filtered("LDAP: wrong password for %r", "alice") \
            == "[e0dff8db 127.0.0.1:47636] LDAP: wrong password for 'alice'"
        assert _filtered("[e0dff8db 127.0.0.1:47636] already prefixed") \
            == "[e0dff8db 127.0.0.1:47636] already prefixed"
    finally:
        sa_context.reset(token)


def test_no_context_no_prefix():
    assert _filtered("[%s] hello", "127.0.0.1:1") == "[127.0.0.1:1] hello"
