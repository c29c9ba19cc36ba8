"""Words for outsiders carry no rule IDs (DESIGN rule 11)."""

from __future__ import annotations

import pytest

from recordroom.kernel.text import without_rule_ids


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("the patient's authorization (R-AUTH-1)", "the patient's authorization"),
        (
            "is not valid (45 CFR 164.508(b)(2), rule R-AUTH-5). A valid one has "
            "every element (R-AUTH-2, R-AUTH-3).",
            "is not valid (45 CFR 164.508(b)(2)). A valid one has every element.",
        ),
        ("Rules: R-ACC-8, R-ACC-9.", ""),
        ("records (R-DISC-7). Please send", "records. Please send"),
        ("witness or missing person (R-DISC-4 (f)(2))", "witness or missing person"),
        (
            "R-DISC-5(v): care at the employer's request",
            "care at the employer's request",
        ),
        ("after that (R-AUTH-8).", "after that."),
        ("no rule here: R-squared is 0.9", "no rule here: R-squared is 0.9"),
    ],
)
def test_rule_ids_are_taken_out(text, plain):
    assert without_rule_ids(text) == plain
