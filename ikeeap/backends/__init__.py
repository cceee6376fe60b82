"""Credential backends (providers) that live outside the EAP methods: LDAP, ..."""
