"""The query builder's refusals: what a compliant query may not say or ask (R-QRY-1
to R-QRY-5), as a list of rules each with its rule ID and a plain message. Pure
functions over text; the services call `problems` before anything is written.

The rules (also in docs/user-guide.md, "Compliant queries"):

* R-QRY-3 money: no word about reimbursement, DRGs, payment, money, billing,
  revenue, case mix, insurance or quality scores.
* R-QRY-3 pressure: no "please document ...", "you must", "we need", "failure to",
  deadlines in the question, "don't you agree", "clearly", "obviously", no
  threats (delinquency, suspension).
* R-QRY-3 leading: a multiple-choice query offers at least two clinical options
  (one diagnosis as the only option directs the provider to it); no option is
  offered twice; the question does not already answer itself ("confirm that the
  patient has ...").
* R-QRY-4 yes/no: only to establish POA, confirm or specify a diagnosis already
  documented, relate documented conditions, or resolve conflicting documentation,
  and then a documentation indicator must quote where the condition is written;
  never to obtain a new diagnosis.
* R-QRY-4 choices: "Other" and "Clinically undetermined" are always offered.
* R-QRY-2: at least one clinical indicator with its source and date; the question
  is written out (no {placeholder} left from a template).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

OTHER = "Other"
UNDETERMINED = "Clinically undetermined"
NOT_SIGNIFICANT = "Not clinically significant"
INTEGRAL = "Integral to another documented condition"
YES, NO = "Yes", "No"
# Options that say no clarification was documented (an answer there: no agreement).
NON_CLINICAL = (OTHER, UNDETERMINED, NOT_SIGNIFICANT, INTEGRAL)
# The ones every multiple-choice query ends with (R-QRY-4).
FIXED = (OTHER, UNDETERMINED)


@dataclass(frozen=True)
class Problem:
    rule: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


# R-QRY-3: financial, DRG, reimbursement or quality-score impact. Whole words, any case.
MONEY = re.compile(
    r"\b(reimburs\w*|(ms-|apr-)?drgs?|payments?|pay|paid|payer|payors?|money|"
    r"dollars?|revenue|financ\w*|billing|bill(ed|able)?|charges?|costs?|"
    r"insurance|insurer|case[- ]mix|cmi|hierarchical condition categor\w*|"
    r"risk[- ]adjust\w*|quality[- ]scores?|star ratings?|profit\w*|"
    r"audit risk)\b|\$",
    re.IGNORECASE,
)
# R-QRY-3: pressure, an expected answer, or a directive to document something.
PRESSURE = re.compile(
    r"\b(please\s+(document|add|write|include|chart|record|note|confirm\s+that|"
    r"state|indicate\s+that)|(you\s+)?(must|need\s+to|have\s+to|should)\s+"
    r"(document|add|write|include|chart|sign|state)|we\s+need|needs?\s+to\s+be\s+"
    r"documented|should\s+be\s+documented|is\s+required|failure\s+to|"
    r"delinquen\w*|suspen(d\w*|sion)\s+of\s+(your\s+)?privileges|"
    r"non-?complian\w*|asap|right\s+away|"
    r"don'?t\s+you\s+agree|wouldn'?t\s+you\s+agree|as\s+you\s+know|clearly|"
    r"obviously|of\s+course|it\s+is\s+evident|surely)\b",
    re.IGNORECASE,
)
# R-QRY-3: a question that carries its own answer.
SELF_ANSWER = re.compile(
    r"\b(confirm\s+(that\s+)?the\s+patient\s+(has|had)|can\s+you\s+add\s+the\s+"
    r"diagnosis|document\s+the\s+diagnosis\s+of|the\s+patient\s+(has|had)\s+\w+"
    r"[^.?]*,\s*(correct|right)\?)",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(r"\{[^}]*\}")


def _scan(text: str, field: str, out: list[Problem]) -> None:
    m = MONEY.search(text)
    if m:
        out.append(Problem("R-QRY-3", field, f"a query never mentions reimbursement, "
                           f"DRGs, payment or other financial or quality-score impact: "
                           f"remove \u201c{m.group(0).strip()}\u201d"))  # fmt: skip
    m = PRESSURE.search(text)
    if m:
        out.append(Problem("R-QRY-3", field, f"the wording directs or pressures the "
                           f"provider (\u201c{m.group(0).strip()}\u201d): ask what the "
                           "indicators show, without an expected answer"))  # fmt: skip
    m = SELF_ANSWER.search(text)
    if m:
        out.append(Problem("R-QRY-3", field, f"the question leads to its answer "
                           f"(\u201c{m.group(0).strip()}\u201d): ask, do not "
                           "propose the diagnosis"))  # fmt: skip


def problems(
    *,
    format: str,
    purpose: str,
    question: str,
    options: Sequence[str],
    yes_no_ground: str,
    indicators: int,
    documentation_indicators: int,
    purposes: Sequence[str],
    grounds: Sequence[str],
) -> list[Problem]:
    """Everything wrong with a query as built, in the order the form shows it.
    `options` are the clinical options the author chose (without the fixed ones)."""
    out: list[Problem] = []
    if purpose not in purposes:
        out.append(Problem("R-QRY-1", "purpose", "say why the query is needed: "
                           "conflicting, incomplete, ambiguous, illegible, imprecise "
                           "or clinically unsupported documentation"))  # fmt: skip
    if not question.strip():
        out.append(Problem("R-QRY-2", "question", "write the question"))
    elif PLACEHOLDER.search(question):
        out.append(Problem("R-QRY-2", "question", "replace the words in {braces} "
                           "with what the record says"))  # fmt: skip
    _scan(question, "question", out)
    for opt in options:
        _scan(opt, "options", out)
    if indicators == 0:
        out.append(Problem("R-QRY-2", "indicators", "quote at least one clinical "
                           "indicator from the record (a lab value, a vital sign, "
                           "imaging, a medication or treatment, a finding) with its "
                           "source and date"))  # fmt: skip
    clinical = [o.strip() for o in options if o.strip()]
    if format == "multiple":
        if len(clinical) < 2:
            out.append(Problem("R-QRY-3", "options", "offer at least two clinically "
                               "reasonable options supported by the indicators: a "
                               "single diagnosis as the only option leads the "
                               "provider to it"))  # fmt: skip
        lowered = [o.lower() for o in clinical]
        if len(set(lowered)) != len(lowered):
            out.append(Problem("R-QRY-4", "options", "an option is offered twice"))
        fixed = {f.lower() for f in FIXED}
        if fixed & set(lowered):
            out.append(Problem("R-QRY-4", "options", "\u201cOther\u201d and "
                               "\u201cClinically undetermined\u201d are added to "
                               "every multiple-choice query; do not list them"))  # fmt: skip
    elif format == "yes-no":
        if yes_no_ground not in grounds:
            out.append(Problem("R-QRY-4", "yes_no_ground", "a yes/no query may never "
                               "obtain a new diagnosis: it is allowed only to "
                               "establish POA, confirm or specify a diagnosis already "
                               "documented, relate documented conditions, or resolve "
                               "conflicting documentation; otherwise ask an "
                               "open-ended or multiple-choice query"))  # fmt: skip
        elif documentation_indicators == 0:
            out.append(Problem("R-QRY-4", "indicators", "a yes/no query is about a "
                               "condition already documented: quote where the record "
                               "documents it (a documentation indicator)"))  # fmt: skip
        if clinical:
            out.append(Problem("R-QRY-4", "options", "a yes/no query offers yes, no "
                               "and clinically undetermined only"))  # fmt: skip
    elif format == "open":
        if clinical:
            out.append(Problem("R-QRY-4", "options", "an open-ended query offers no "
                               "options"))  # fmt: skip
    else:
        out.append(Problem("R-QRY-4", "format", "choose open-ended, multiple choice "
                           "or yes/no"))  # fmt: skip
    return out


def offered(format: str, options: Sequence[str]) -> list[str]:
    """The answers the provider sees, in order (R-QRY-4)."""
    clinical = [o.strip() for o in options if o.strip()]
    if format == "multiple":
        return [*clinical, *FIXED]
    if format == "yes-no":
        return [YES, NO, UNDETERMINED]
    return []


def agreement(format: str, answer: str) -> bool | None:
    """Whether an answer documents a clarification (None: a specialist judges)."""
    if format == "yes-no":
        return answer == YES
    if format == "multiple":
        if answer == OTHER:
            return None
        return answer not in NON_CLINICAL
    return None
