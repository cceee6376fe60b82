"""Helpers for the EAP tests, imported by name (a uniquely named module: a plain
``from conftest import`` picks whichever conftest was imported first in a mixed run)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from ikeeap.eap.authenticator import EapAuthenticator, EapOutput
from ikeeap.eap.method import EapContext, EapStep
from ikeeap.eap.peer import EapPeer


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine to completion (no Twisted needed)."""
    return asyncio.run(coro)


def start_process(method: Any, ctx: EapContext, responses: Sequence[bytes]) -> list[EapStep]:
    """start() then process() each response; returns every step."""

    async def go() -> list[EapStep]:
        steps = [await method.start(ctx)]
        for resp in responses:
            steps.append(await method.process(ctx, resp))
        return steps

    return run(go())


Converse = Callable[[EapAuthenticator, EapPeer], tuple[EapOutput, list[bytes]]]
