"""LDAP password verification (ldap3): search with a service account, bind as the user.

- :mod:`.config`: the ``[ldap]`` table -> :class:`LdapConfig`.
- :mod:`.directory`: :class:`LdapDirectory`, the blocking check (worker threads only).
- :mod:`.verifier`: :class:`LdapPasswordVerifier`, the awaitable PasswordVerifier used by
  EAP-GTC, TTLS-PAP and TTLS inner GTC.
"""

from .config import LdapConfig, parse_ldap_section
from .directory import CheckResult, LdapDirectory
from .verifier import LdapPasswordVerifier

__all__ = ["CheckResult", "LdapConfig", "LdapDirectory", "LdapPasswordVerifier",
           "parse_ldap_section"]
