"""Profile N in-memory EAP logins (sans-I/O initiator <-> Responder, no sockets).

    python bench/profile_logins.py [--logins 300] [--method mschapv2] [--top 30]

Prints the responder's and the initiator's share of the time and the top functions by own
time (cProfile), so hot spots of the responder can be found without the network noise.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import common

from ikeeap.ike.hardening import Hardening
from ikeeap.initiator import InitiatorConfig, Loopback
from ikeeap.initiator.testing import make_pki, make_settings


def build(method: str, key_type: str):
    pki = make_pki(key_type)
    settings = make_settings(users=common.users(), eap_methods=(method,), pki=pki,
                             pool="10.64.0.0/16", ike_proposals=(common.IKE_PROPOSAL,),
                             esp_proposals=(common.ESP_PROPOSAL,),
                             hardening=Hardening(**common.NO_LIMITS))
    configs = [InitiatorConfig(identity=u, password=p, eap_methods=(method,),
                               ca_certificate=pki.ca.der, ike_proposals=(common.IKE_PROPOSAL,),
                               esp_proposals=(common.ESP_PROPOSAL,))
               for u, p in common.users().items()]
    return settings, configs


def run(logins: int, method: str, key_type: str) -> Loopback:
    settings, configs = build(method, key_type)
    loop = Loopback(settings)
    for n in range(logins):
        result = loop.login(configs[n % len(configs)])
        assert result.established, result.failure_reason
    return loop


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--logins", type=int, default=300)
    p.add_argument("--method", default="mschapv2")
    p.add_argument("--key-type", default="ecdsa")
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args()
    run(5, args.method, args.key_type)  # warm caches (PKI, imports)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    run(args.logins, args.method, args.key_type)
    prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    own = {k: v for k, v in stats.stats.items()}  # type: ignore[attr-defined]
    responder = sum(v[3] for k, v in own.items()
                    if k[2] in ("receive_datagram", "eap_done") and "ike/responder" in k[0])
    print(f"{args.logins} logins in {wall:.2f}s ({wall / args.logins * 1000:.2f} ms each, both"
          f" sides); responder (receive_datagram + eap_done, cumulative): "
          f"{responder / args.logins * 1000:.2f} ms per login")
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
