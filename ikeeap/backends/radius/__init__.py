"""RADIUS: shared codec, pass-through client and EAP method, accounting, test front."""
