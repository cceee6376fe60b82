"""Peer-side EAP for ikeeap's own test initiator."""

from ikeeap.eap.peer.methods import EapPeerMethod, GtcPeer, Md5Peer, MsChapV2Peer, PeerError
from ikeeap.eap.peer.peer import EapPeer

__all__ = ["EapPeer", "EapPeerMethod", "GtcPeer", "Md5Peer", "MsChapV2Peer", "PeerError"]
