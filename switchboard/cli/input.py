"""Reading a new password on the command line: prompted twice, or one line from stdin.

Never from an argument, where it would land in shell history and ``ps``.
"""

from __future__ import annotations

import getpass
import sys


def read_new_password(
    from_stdin: bool, prompt: str, error: type[Exception], *, flag: str = "--password-stdin"
) -> str:
    """``error`` is the caller's refusal type, so its command reports it like any other;
    ``flag`` the command's option for reading stdin."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise error(f"no terminal to ask for it on: use {flag}")
    first = getpass.getpass(prompt)
    if getpass.getpass("Again: ") != first:
        raise error("the two passwords differ; nothing was changed")
    return first
