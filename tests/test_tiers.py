"""tests/tiers.py stays true: every test it names exists, so a renamed test does not slip into the fast tier."""

from __future__ import annotations

import re
from pathlib import Path

from tests.tiers import AIRFLOW, BROWSER, SLOW

REPO = Path(__file__).resolve().parents[1]


def test_every_entry_of_the_tiers_names_an_existing_test_file_or_function() -> None:
    for entry in [*SLOW, *BROWSER, *AIRFLOW]:
        path, _, test = entry.partition("::")
        source = REPO / path
        assert source.is_file(), f"tests/tiers.py names {path}, which does not exist"
        if test:
            assert re.search(rf"^def {re.escape(test)}\(", source.read_text(encoding="utf-8"), re.MULTILINE), entry


def test_browser_and_airflow_tests_are_left_out_of_the_fast_tier_too() -> None:
    assert set(BROWSER) <= set(SLOW) and set(AIRFLOW) <= set(SLOW)
