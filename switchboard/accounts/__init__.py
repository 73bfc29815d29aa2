"""Accounts, roles and the one authorization rule of the web (issue 5).

Pure core: ``model`` (roles, permissions, ``allowed()``), ``passwords`` (argon2id and the
password policy), ``throttle`` (sign-in slowing without lockout) and ``sessions`` (session
and token values). The store keeps them; ``switchboard.live.accounts`` puts them together.
"""
