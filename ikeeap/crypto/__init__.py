"""Cryptography for ikeeap: the only package that imports cryptography.hazmat.

transforms (transform tables, IkeSuite), prf (prf, prf+), dh (KE groups), keys (SKEYSEED and
key derivation), sk (SK payload protection), auth (AUTH payload), certs (X.509 helpers).
"""
