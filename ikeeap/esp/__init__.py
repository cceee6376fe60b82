"""The sans-I/O ESP core of the userspace data plane (RFC 4303 tunnel mode, RFC 4304 ESN,
RFC 3948 demultiplexing): bytes in, bytes and events out; no sockets, no TUN, no Twisted.

- sa: ``OutboundSa.seal(inner) -> ESP | Drop``, ``InboundSa.open(ESP) -> inner | Drop``,
  ``Lifetime``, counters.
- child: ``responder_child(ChildSaEstablished) -> EspChild`` (both directions, keymat split
  per RFC 7296 §2.17), ``initiator_child`` (the mirror image, for tests).
- table: ``EspTable`` (inbound by SPI, outbound by destination virtual IP).
- replay: the anti-replay window with ESN inference; selectors: the traffic-selector check;
  natt: the NAT-T port demultiplexer; events: Drop, RekeyDue, HardExpired, ChildRef.
The cryptography lives in ikeeap/crypto/esp_transforms.py.
"""

from .child import EspChild, initiator_child, responder_child, split_keymat
from .events import ChildRef, Drop, HardExpired, RekeyDue
from .natt import NattKind, classify, demux, encapsulate_ike
from .replay import ReplayWindow
from .sa import InboundSa, Lifetime, OutboundSa, SaCounters
from .selectors import Selector, SelectorCheck, parse_selector
from .table import EspTable

__all__ = [
    "ChildRef",
    "Drop",
    "EspChild",
    "EspTable",
    "HardExpired",
    "InboundSa",
    "Lifetime",
    "NattKind",
    "OutboundSa",
    "RekeyDue",
    "ReplayWindow",
    "SaCounters",
    "Selector",
    "SelectorCheck",
    "classify",
    "demux",
    "encapsulate_ike",
    "initiator_child",
    "parse_selector",
    "responder_child",
    "split_keymat",
]
