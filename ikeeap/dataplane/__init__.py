"""The data plane: what carries a Child SA's traffic once IKE has negotiated it.

Sans-I/O parts only (no sockets, no Twisted): ``interface`` (the ``DataPlane`` protocol the
responder drives and its value types), ``settings`` (``[dataplane]`` and the choice of
mode), ``netlink``/``xfrm`` (the kernel's XFRM messages), ``kernel`` (what to install for a
Child SA), ``probe`` (is there XFRM? ESP?), ``updown`` (strongSwan-compatible script
environments). The adapters are ``ikeeap/server/xfrm_kernel.py`` and
``ikeeap/server/updown.py``.
"""

from .interface import (
    ChildCounters, ChildSaDown, ChildSaExpiring, ChildSaFailed, ChildSaRekey, ChildSaUp,
    DataPlane, Lifetimes, NoDataPlane, ReqIds, child_sa_up,
)
from .settings import (
    DataPlaneSettings, DataPlaneSettingsError, DataPlaneUnavailable, KernelProbe, ModeChoice,
    choose_mode,
)

__all__ = [
    "ChildCounters", "ChildSaDown", "ChildSaExpiring", "ChildSaFailed", "ChildSaRekey",
    "ChildSaUp", "DataPlane", "Lifetimes", "NoDataPlane", "ReqIds", "child_sa_up",
    "DataPlaneSettings", "DataPlaneSettingsError", "DataPlaneUnavailable", "KernelProbe",
    "ModeChoice", "choose_mode",
]
