"""The password policy (NIST SP 800-63B): a minimum length, a list of commonly used passwords, no composition rules.

A password is refused when it is too short or too long, when its letters (digits, spaces and punctuation taken
out, lower-cased) are a commonly used password or the user name or the service name, when it repeats a short
pattern (`aaaaaaaaaaaaaaa`, `abcabcabcabcabc`), or when it is a run along the alphabet, the digits or a keyboard
row. Nothing else is asked of it: any characters, spaces and passphrases are welcome.
"""

from __future__ import annotations

import re
from importlib.resources import files

from earful_complaints.errors import ComplaintError

SERVICE_WORDS = ("earful", "complaint", "complaints")
_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


class WeakPassword(ComplaintError):
    """The password does not meet the policy; the message says why (never the password itself)."""


def common_passwords() -> frozenset[str]:
    """The base words of commonly used passwords shipped with the project (wordlists/common_passwords.txt)."""
    text = files("earful_complaints").joinpath("wordlists", "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _repeats(text: str) -> bool:
    """True when `text` is a short unit repeated (the last repetition may be cut short)."""
    n = len(text)
    return any((text[:k] * (n // k + 1))[:n] == text for k in range(1, max(1, n // 2) + 1))


def _is_run(text: str) -> bool:
    """True when `text` walks along the alphabet, the digits or a keyboard row, forwards or backwards."""
    if len(text) < 4:
        return False
    return any(text in run or text in run[::-1] or text in run * 2 for run in _RUNS)


def check_password(
    password: str, *, username: str = "", min_length: int, max_length: int = 256, common: frozenset[str] | None = None
) -> None:
    """Raise WeakPassword naming the rule when `password` does not meet the policy."""
    if len(password) < min_length:
        raise WeakPassword(f"passwords need at least {min_length} characters (a few words make a good one)")
    if len(password) > max_length:
        raise WeakPassword(f"passwords may have at most {max_length} characters")
    lowered = password.lower()
    compact = re.sub(r"[\s\W_]+", "", lowered)
    letters = re.sub(r"[^a-z\u00c0-\uffff]+", "", lowered)
    common = common_passwords() if common is None else common
    if lowered in common or compact in common or (len(letters) >= 3 and letters in common):
        raise WeakPassword("this password is one of the most commonly used; choose another")
    context = {c for w in (*SERVICE_WORDS, username.lower()) if len(c := re.sub(r"[\s\W_]+", "", w)) >= 3}
    if letters in context or any(w in compact and len(compact) - len(w) < 6 for w in context):
        raise WeakPassword("the password must not be built on the user name or the service name")
    mostly_letters = len(letters) >= len(compact) - 4  # a few digits tacked on do not make it a new password
    if _repeats(compact) or (mostly_letters and _repeats(letters)) or len(set(compact)) < 5:
        raise WeakPassword("the password repeats a short pattern; choose one with more variety")
    if _is_run(compact) or (mostly_letters and _is_run(letters)):
        raise WeakPassword("the password is a run along the alphabet, the digits or the keyboard")
