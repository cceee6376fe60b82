"""TLS inside EAP: the framing engine (:mod:`.engine`) and server contexts (:mod:`.context`)."""
