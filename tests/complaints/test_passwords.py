"""The password policy alone (NIST SP 800-63B): length and the shipped list of common passwords, no composition."""

from __future__ import annotations

import pytest

from earful_complaints.passwords import WeakPassword, check_password, common_passwords


@pytest.mark.parametrize(
    "password,why",
    [
        ("short pass", "at least 15"),
        ("aaaaaaaaaaaaaaaaaaaa", "repeats"),
        ("abcabcabcabcabcabc", "repeats"),
        ("passwordpassword", "repeats"),
        ("Password2026!!!!!!", "commonly used"),
        ("iloveyou-1234567", "commonly used"),
        ("Liverpool 1892 !!!", "commonly used"),
        ("qwertyuiopasdfghjkl", "run along"),
        ("123456789012345678", "run along"),
        ("zyxwvutsrqponmlkji", "run along"),
        ("margaret-2026-margaret", "repeats"),
        ("margaret.smith.2026", "user name"),
        ("earful-2026-000", "commonly used|service name"),
        ("complaints-2026-x", "service name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(WeakPassword, match=why) as err:
        check_password(password, username="margaret.smith", min_length=15)
    assert password not in str(err.value)


@pytest.mark.parametrize(
    "password",
    [
        "pale orange kettle on a quiet shelf",  # a passphrase: spaces welcome
        "all lower case no digits at all",  # no composition rules
        "сفارش-خراب-رسید-بود",  # any script
        "ada-password-123",
    ],
)
def test_other_passwords_are_accepted(password: str) -> None:
    check_password(password, username="margaret.smith", min_length=15)


def test_the_shipped_list_is_loaded() -> None:
    words = common_passwords()
    assert len(words) > 500 and {"password", "qwerty", "iloveyou", "dragon", "passwort"} <= words


def test_too_long() -> None:
    with pytest.raises(WeakPassword, match="at most 64"):
        check_password("w" + "x y z " * 20, min_length=15, max_length=64)
