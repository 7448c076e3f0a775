"""The screen against our own corpus (tests/data/crisis): messages by many authors, split in
half per category. The rules are written against the development half; the held-back half
shows how the screen does on phrasing it was not written for. `python -m bench.crisis`
prints every figure. The issue's target on the held-back half is recall 0.95 and at most 2%
false alarms; the floors below only keep what the screen reaches today from getting worse."""

from pathlib import Path

import pytest

import locales
from bench.crisis import LANGUAGES, load, measure
from dialogs.crisis import CrisisScreen

SCREEN = CrisisScreen.load(Path(locales.__file__).parent / "crisis")
FLOORS = {  # half: (least recall, most false alarms), per language
    "dev": (0.72, 0.04),
    "heldout": (0.64, 0.07),
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("half", FLOORS)
def test_recall_and_false_alarms_hold_their_floor(language, half):
    figures = measure(SCREEN, load(language, half))
    least_recall, most_alarms = FLOORS[half]
    assert figures["recall"] >= least_recall, figures
    assert figures["false_alarms"] <= most_alarms, figures


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_half_has_150_risky_and_150_everyday_messages_between_them(language):
    rows = load(language, "dev") + load(language, "heldout")
    risky = [r for r in rows if r["category"] != "none"]
    assert len(risky) >= 150 and len(rows) - len(risky) >= 150
    assert not {r["text"] for r in load(language, "dev")} & {
        r["text"] for r in load(language, "heldout")
    }
