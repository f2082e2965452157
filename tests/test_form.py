import pytest

from ktokit.packs.counting import COUNTERS, Count, Counter
from ktokit.packs.form import FAIL, NOT_APPLICABLE, PASS, check_form
from ktokit.packs.languages import FormRule


class VowelGroups(Counter):
    """A transparent counter for testing the form logic: runs of aeiouy; 'fire' may be 1 or 2."""

    name = "test-vowels"

    def count(self, text: str) -> Count:
        import re

        n = len(re.findall(r"[aeiouy]+", text.lower()))
        return Count(n, (n + 1,) if "fire" in text.lower() else ())


@pytest.fixture(autouse=True)
def test_counter(monkeypatch):
    monkeypatch.setitem(COUNTERS, "test-vowels", f"{__name__}:VowelGroups")


RULE = FormRule(lines=3, pattern=[5, 7, 5], counter="test-vowels")
GOOD = "the sea at the dawn\nthe sea at the dawn has sung\nthe sea at the dawn"  # 5 / 7 / 5 vowel groups


def test_pass():
    result = check_form(GOOD, RULE)
    assert result.verdict == PASS and result.passed
    assert result.score == 1.0
    assert [line.count for line in result.lines] == [5, 7, 5]
    assert all(line.ok for line in result.lines)


def test_one_unit_off_fails_but_scores_high():
    result = check_form(GOOD.replace("has sung", "sung"), RULE)
    assert result.verdict == FAIL
    assert "line 2: 6" in result.reason
    assert 0.9 < result.score < 1.0


def test_an_alternative_count_is_accepted():
    rule = FormRule(lines=1, pattern=[3], counter="test-vowels")
    assert check_form("the fire", rule).passed  # 2 vowel groups, or 3 with the alternative


def test_missing_and_extra_lines_cost_their_share():
    two = check_form("\n".join(GOOD.split("\n")[:2]), RULE)
    assert two.verdict == FAIL and "2 lines, expected 3" in two.reason
    assert two.score == pytest.approx(2 / 3, abs=1e-3)
    four = check_form(GOOD + "\nthe sea at the dawn", RULE, clean=False)
    assert four.verdict == FAIL and four.score == pytest.approx(3 / 4, abs=1e-3)


def test_cleaning_happens_first_and_keeps_the_raw_text():
    raw = f"Sure! Here's one:\n\n{GOOD}\n\nThis haiku is about the sea."
    result = check_form(raw, RULE)
    assert result.passed and result.raw == raw and result.cleaned == GOOD
    assert not check_form(raw, RULE, clean=False).passed


def test_empty_answer_fails_with_zero():
    result = check_form("", RULE)
    assert result.verdict == FAIL and result.score == 0.0


def test_free_form_and_line_only_rules():
    assert check_form("anything at all", FormRule()).verdict == NOT_APPLICABLE
    lines_only = FormRule(lines=2)
    assert check_form("a\nb", lines_only).passed
    assert check_form("a", lines_only).score == 0.5


def test_to_dict_is_json_ready():
    import json

    data = json.loads(json.dumps(check_form(GOOD, RULE).to_dict()))
    assert data["verdict"] == "pass" and len(data["lines"]) == 3
