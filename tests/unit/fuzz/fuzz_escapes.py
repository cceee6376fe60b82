"""Exceptions that product code caught and logged instead of letting them propagate.

The EAP authenticator turns an exception from a method into EAP-Failure and logs it
("EAP method X raised ...", logger ``ikeeap.eap.authenticator``); the RADIUS front logs
"handling an Access-Request failed" with the traceback; the control socket logs "control
command failed: <traceback>"; EAP-SIM turns a failing identity store or triplet source into
a warning.  To a fuzzer that only checks the answer, such a bug is invisible.
:func:`reported_escapes` collects these lines so a fuzz target can assert there are none.

An escape is a record of an ``ikeeap`` logger that

- carries exception info, or a formatted traceback in its message (Twisted errbacks log
  ``failure.getTraceback()``);
- is at ERROR or above (input from a peer never deserves one: it is refused at INFO or
  WARNING; the authenticator's "EAP method X raised" lines are ERROR);
- says that one of our own backends failed (:data:`BACKEND_FAILURES`): with the real
  backends of the fuzz lab, that is an exception the peer's input caused.

(The authenticator's INFO line "EAP failure: ... raised ..." repeats an ERROR line; it is not
counted, because a failure reason may quote peer input.)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

PRODUCT_LOGGER = "ikeeap"
TRACEBACK = "Traceback (most recent call last)"
BACKEND_FAILURES = re.compile(r"EAP-SIM (identity store|triplet source) failed")


class EscapeCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.escapes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (record.exc_info or record.levelno >= logging.ERROR or TRACEBACK in message
                or BACKEND_FAILURES.search(message)):
            cause = record.exc_info[1] if record.exc_info else None
            self.escapes.append(f"{record.name} {record.levelname}: {message} ({cause!r})")


@contextmanager
def reported_escapes() -> Iterator[list[str]]:
    """The list of escape lines logged inside the ``with`` block (filled as they come).

    Other tests may have silenced ikeeap loggers (levels above ERROR, ``disabled``, no
    propagation): inside the block every ``ikeeap`` logger lets WARNING and above reach the
    collector, and is restored afterwards."""
    root = logging.getLogger(PRODUCT_LOGGER)
    loggers = [root] + [logger for name, logger in logging.Logger.manager.loggerDict.items()
                        if name.startswith(PRODUCT_LOGGER + ".")
                        and isinstance(logger, logging.Logger)]
    saved = [(logger, logger.level, logger.disabled, logger.propagate) for logger in loggers]
    collector = EscapeCollector()
    for logger in loggers:
        logger.disabled = False
        if logger is not root:
            logger.propagate = True
        if logger.level > logging.WARNING:
            logger.setLevel(logging.WARNING)
    if root.getEffectiveLevel() > logging.WARNING:
        root.setLevel(logging.WARNING)
    root.addHandler(collector)
    try:
        yield collector.escapes
    finally:
        root.removeHandler(collector)
        for logger, level, disabled, propagate in saved:
            logger.setLevel(level)
            logger.disabled = disabled
            logger.propagate = propagate
