"""strongSwan-compatible updown environments (pure): what a script sees on Child SA up/down.

The names and formats follow strongSwan's updown plugin (src/libcharon/plugins/updown/
updown_listener.c) so scripts written for charon run unchanged: one invocation per pair of
selectors (ours × the peer's), with

- ``PLUTO_VERSION=1.1``; ``PLUTO_VERB`` = ``up-client``/``down-client`` (``-host`` when our
  selector is exactly our own address; ``-v6`` suffix for IPv6 selectors);
- ``PLUTO_CONNECTION``, ``PLUTO_INTERFACE`` (``unknown`` when not known), ``PLUTO_REQID``,
  ``PLUTO_PROTO=esp``, ``PLUTO_UNIQUEID``;
- ``PLUTO_ME``/``PLUTO_PEER`` (outer addresses), ``PLUTO_MY_ID``/``PLUTO_PEER_ID``,
  ``PLUTO_MY_CLIENT``/``PLUTO_PEER_CLIENT`` (``net/prefix``: a range that is no subnet is
  widened to its smallest covering subnet, as charon does), ``PLUTO_MY_PORT``/
  ``PLUTO_PEER_PORT`` (``N``, ``from:to``, or ICMP type/code), ``PLUTO_MY_PROTOCOL``/
  ``PLUTO_PEER_PROTOCOL``;
- ``PLUTO_XAUTH_ID``: the EAP identity (strongSwan's name for it), also as
  ``PLUTO_USERNAME`` (libreswan's name, which many site scripts read);
- ``PLUTO_PEER_SOURCEIP`` and ``PLUTO_PEER_SOURCEIP4_1``/``PLUTO_PEER_SOURCEIP6_1``: the
  virtual IP the peer was given;
- ``PLUTO_UDP_ENC=<peer port>`` when a NAT was detected, ``PLUTO_IF_ID_IN``/``_OUT`` with an
  XFRM interface id. ``PLUTO_IPCOMP`` is never set: ikeeap negotiates no IPComp.

No key, password or secret is part of any variable (``ChildSaUp.keymat`` is never read).
Values that came from the peer (identities) have control characters replaced by ``?``.
"""

from __future__ import annotations

import ipaddress

from .interface import ChildSaUp
from .kernel import TrafficSelector, parse_ts

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ICMP = (1, 58)


def _clean(value: str, limit: int = 255) -> str:
    return "".join(c if c.isprintable() else "?" for c in value[:limit])


def _port(ours: TrafficSelector, theirs: TrafficSelector, local: bool) -> str:
    if max(ours.proto, theirs.proto) in _ICMP:
        # IKEv2 carries ICMP type (high octet) and code (low octet) in the port fields
        port = max(ours.start_port, theirs.start_port)
        return str(port >> 8 if local else port & 0xFF)
    ts = ours if local else theirs
    if ts.start_port == ts.end_port or (ts.start_port, ts.end_port) == (0, 65535):
        return str(ts.start_port)
    return f"{ts.start_port}:{ts.end_port}"


def updown_environments(child: ChildSaUp, up: bool, interface: str | None = None,
                        path: str = DEFAULT_PATH) -> list[dict[str, str]]:
    """One environment per selector pair, in the order strongSwan runs them."""
    out = []
    me = ipaddress.ip_address(child.local[0])
    for ours_text in child.ts_local:
        ours = parse_ts(ours_text)
        for theirs_text in child.ts_remote:
            theirs = parse_ts(theirs_text)
            if ours.network.version != theirs.network.version:
                continue
            is_host = ours.network.num_addresses == 1 and ours.network.network_address == me
            v6 = (me.version if is_host else ours.network.version) == 6
            env = {
                "PATH": path,
                "PLUTO_VERSION": "1.1",
                "PLUTO_VERB": f"{'up' if up else 'down'}-{'host' if is_host else 'client'}"
                              f"{'-v6' if v6 else ''}",
                "PLUTO_CONNECTION": _clean(child.connection),
                "PLUTO_INTERFACE": interface or "unknown",
                "PLUTO_REQID": str(child.reqid),
                "PLUTO_PROTO": "esp",
                "PLUTO_UNIQUEID": str(child.unique_id),
                "PLUTO_ME": str(me),
                "PLUTO_MY_ID": _clean(child.local_id),
                "PLUTO_MY_CLIENT": str(ours.network),
                "PLUTO_MY_PORT": _port(ours, theirs, True),
                "PLUTO_MY_PROTOCOL": str(ours.proto),
                "PLUTO_PEER": str(ipaddress.ip_address(child.remote[0])),
                "PLUTO_PEER_ID": _clean(child.remote_id),
                "PLUTO_PEER_CLIENT": str(theirs.network),
                "PLUTO_PEER_PORT": _port(ours, theirs, False),
                "PLUTO_PEER_PROTOCOL": str(theirs.proto),
            }
            if child.username:
                env["PLUTO_XAUTH_ID"] = env["PLUTO_USERNAME"] = _clean(child.username)
            if child.virtual_ip:
                vip = ipaddress.ip_address(child.virtual_ip)
                env["PLUTO_PEER_SOURCEIP"] = str(vip)
                env[f"PLUTO_PEER_SOURCEIP{vip.version}_1"] = str(vip)
            if child.if_id:
                env["PLUTO_IF_ID_IN"] = env["PLUTO_IF_ID_OUT"] = str(child.if_id)
            if child.udp_encap:
                env["PLUTO_UDP_ENC"] = str(child.remote[1])
            out.append(env)
    return out
