"""The method-author test kit: run an EAP method through full IKEv2 logins in memory
(:class:`MethodKit`), with a peer side written by the author (:func:`peer_with`) or a
built-in one, and through ``ikeeap radius-front`` against eapol_test (:func:`eapol_login`).
See docs/plugins.md, "Testing a method"."""

from .harness import KitLogin, MethodKit
from .peer import KitPeer, PeerMethod, peer_with
from .radius import eapol_login

__all__ = ["KitLogin", "KitPeer", "MethodKit", "PeerMethod", "eapol_login", "peer_with"]
