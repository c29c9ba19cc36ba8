"""Parsing one field's value as printed: an identifier through OCR slips in its digits,
a person's name in the orders forms and letters use."""

from __future__ import annotations

import re

from .lines import GAP

_DIGIT_FIX = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "i": "1",
     "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6"}
)  # fmt: skip
_DG = "[0-9OoIl|SsBZDQG]"
# a prefix of letters, then digits in groups ('0045 1278', '99-1234567')
_ID = re.compile(
    rf"(?P<id>[A-Za-z]{{0,3}}[ -]?{_DG}(?:{_DG}|-|[ ](?=[0-9]{{3}})){{2,24}})"
)


def identifier(text: str) -> tuple[str, int, int] | None:
    """The identifier at the start of `text` as (normalised, start, end): letters of
    a prefix kept, OCR slips in the digits mended (O->0, l->1, S->5), dashes and
    spaces dropped. None when it has fewer than three real digits."""
    m = _ID.search(text)
    if m is None or text[: m.start()].strip(" .:#-\t"):
        return None
    raw = m.group("id").rstrip("-")
    prefix = re.match(r"[A-Za-z]{0,3}", raw).group(0)  # type: ignore[union-attr]
    rest = raw[len(prefix) :].strip(" -")
    if prefix and all(c in "OoIlSsBDQZG" for c in prefix):
        # 'OO4512' reads better as digits than as a prefix OO
        rest, prefix = raw.strip(" -"), ""
    digits = rest.translate(_DIGIT_FIX).replace("-", "").replace(" ", "")
    if not digits.isdigit() or sum(c.isdigit() for c in rest) < 3:
        return None
    return prefix.upper() + digits, m.start(), m.start() + len(raw)


_NAME_WORD = re.compile(r"^[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'\-\.]*,?$")
TITLES = {"mr", "mrs", "ms", "miss", "dr", "mx"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_CREDENTIALS = {"md", "do", "np", "pa", "pa-c", "rn", "mbbs", "dpm", "phd", "fnp",
                "aprn", "crna", "dds", "dmd", "facs", "facp", "cnm", "lpn", "md.", "d.o."}  # fmt: skip
NOT_NAMES = {
    "dob", "mrn", "sex", "male", "female", "date", "age", "account", "acct", "unknown",
    "the", "patient", "report", "page", "of", "and", "for", "with", "was", "is", "by",
    "on", "at", "to", "in", "a", "an", "visit", "admission", "discharge", "birth",
    "summary", "history", "physical", "note", "room", "bed", "unit", "fin", "dos",
}  # fmt: skip


def person_name(text: str) -> tuple[str, str, int, int] | None:
    """A person's name at the start of `text` as (family, given, start, end):
    'SMITH, John A', 'John A. Smith', 'Dr. Ann Lee, MD'. None when it is not one."""
    words: list[tuple[str, int, int]] = []
    for m in re.finditer(r"[^\s]+", text):
        if GAP in text[words[-1][2] if words else 0 : m.start()] and words:
            break
        token = m.group(0)
        bare = token.strip(",.()").lower()
        if bare in TITLES and not words:
            continue
        if bare in _CREDENTIALS or bare in _SUFFIXES:
            break
        initial = len(bare) == 1 and token[0].isupper()
        if not _NAME_WORD.match(token.strip("()")) or (
            bare in NOT_NAMES and not initial
        ):
            break
        words.append((token, m.start(), m.end()))
        if token.endswith(",") and len(words) > 1:
            break
        if len(words) == 4:
            break
    tokens = [w for w, _, _ in words]
    if len(tokens) < 2:
        return None
    start, end = words[0][1], words[-1][2]
    comma = next((k for k, t in enumerate(tokens[:-1]) if t.endswith(",")), None)
    if comma is not None:
        family = " ".join(tokens[: comma + 1])
        given = " ".join(tokens[comma + 1 :])
    else:
        family, given = tokens[-1], " ".join(tokens[:-1])
    family = family.strip(",. ")
    given = given.strip(",. ")
    if len(family.replace("-", "")) < 2 or not given:
        return None
    return family, given, start, end
