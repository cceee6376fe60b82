"""The fuzz targets' failures must reach the report.

When a hypothesis test fails, its pytest plugin writes a patch adding ``@example(...)``
with libcst; in this environment that crashes (``AttributeError: __provides__`` in libcst's
visitor, zope.interface being installed) and pytest stops with INTERNALERROR, hiding the
failing case and the rest of the run.  The falsifying example is printed in the failure
anyway, so the patch is not written for tests in this folder.
"""

from __future__ import annotations

import pytest

_FAILING_EXAMPLES = "_hypothesis_failing_examples"  # where hypothesis leaves them for its plugin


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> None:
    if hasattr(item, _FAILING_EXAMPLES):
        delattr(item, _FAILING_EXAMPLES)
