"""Text normalisation for search keys: case-, accent- and punctuation-insensitive."""

from __future__ import annotations

import re
import unicodedata

# Letters and digits of every script are kept (a name in Chinese or Cyrillic has a
# key too); punctuation and underscores become spaces.
_NOT_ALNUM = re.compile(r"[^\w ]+|_")
_SPACES = re.compile(r"\s+")


def search_key(text: str | None) -> str:
    """'  José  O'Brien-Núñez ' -> 'jose obrien nunez'.

    Accents are stripped (NFKD, combining marks dropped), apostrophes vanish, other
    punctuation becomes a space, case folds.
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().replace("'", "").replace("\u2019", "")
    folded = _NOT_ALNUM.sub(" ", folded)
    return _SPACES.sub(" ", folded).strip()


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`.

    `key >= prefix AND key < prefix_upper_bound(prefix)` is an index range scan on
    SQLite and PostgreSQL alike (search-key columns use the "C" collation on
    PostgreSQL, so byte order holds), where LIKE 'abc%' is not always.
    """
    if not prefix:
        raise ValueError("an empty prefix has no upper bound")
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def with_article(noun: str) -> str:
    """The noun with "a" or "an" before it: "an attorney", "a payer", "an HIV test".

    Codes are read as words ("law-enforcement" -> "a law enforcement ...").
    """
    words = noun.replace("-", " ").replace("_", " ").strip()
    first = words.split(" ", 1)[0]
    spelled = first.isupper() and 1 < len(first) <= 3  # read letter by letter (SSN)
    vowel = first[:1].lower() in "aeio" or (spelled and first[0] in "AEFHILMNORSX")
    vowel = vowel or (first[:1].lower() == "u" and not first.lower().startswith("us"))
    return f"{'an' if vowel else 'a'} {words}"


# A rule ID of RULES.md as code cites it: R-AUTH-1, R-AUTH-2(5), R-DISC-4 (f)(2),
# R-ACC-2P, R-P2-5. Letters and packets never print one (DESIGN rule 11).
_RULE = r"R-[A-Z][A-Z0-9]*(?:-[0-9A-Z]+)+(?:\s?\([0-9a-z]{1,4}\))*"
_RULE_LIST = rf"(?:rules?\s+)?{_RULE}(?:\s*(?:,|/|and|or)\s*{_RULE})*"
_RULE_FORMS = (
    re.compile(rf"\s*\({_RULE_LIST}\)"),  # "... (R-AUTH-1)"
    re.compile(rf",?\s*{_RULE_LIST}(?=\))"),  # "(45 CFR 164.508(b)(2), rule R-AUTH-5)"
    re.compile(rf"\bRules?:\s*{_RULE_LIST}\.?"),  # "Rules: R-ACC-8, R-ACC-9."
    re.compile(rf"{_RULE_LIST}:\s*"),  # "R-DISC-5(v): care at ..."
    re.compile(rf"\s*(?:of\s+|under\s+)?{_RULE_LIST}"),  # any other
)


def without_rule_ids(text: str) -> str:
    """Text for outsiders: the internal rule IDs taken out, the words around them
    kept ("valid (45 CFR 164.508(b)(2), rule R-AUTH-5)" -> "valid (45 CFR
    164.508(b)(2))")."""
    for form in _RULE_FORMS:
        text = form.sub("", text)
    return re.sub(r"\(\s*\)", "", text).replace(" .", ".").replace(" ,", ",").strip()
