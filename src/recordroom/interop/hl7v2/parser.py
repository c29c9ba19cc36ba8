"""A thin reading layer over python-hl7: field access by HL7 position, and typed values.

`Hl7Error` carries the position (e.g. "PID-7") of the offending field, so the ACK's
ERR segment can name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

import hl7

from .charsets import CharsetError, decode


class Hl7Error(Exception):
    """A message, segment or field that cannot be used; `location` is like "PID-7"."""

    def __init__(self, message: str, location: str = "", code: str = "102") -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.code = code  # HL7 table 0357: 100 segment, 101 required, 102 data type


@dataclass(frozen=True)
class Encoding:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    charset: str = "utf-8"  # the Python codec \Xhh\ bytes are decoded in


# FT formatting commands (HL7 v2.5.1 2.7.6): those that end a line, and those that
# only change layout (dropped); \H\ and \N\ (highlighting) are dropped too.
_BREAKS = re.compile(r"\.(br|sp\d*|in[+-]?\d*|ti[+-]?\d*|ce)")
_DROPPED = re.compile(r"\.(fi|nf|sk\d*)|H|N|Z.*|[CM][0-9A-Fa-f]*")
_HEX = re.compile(r"X((?:[0-9A-Fa-f]{2})+)")


@lru_cache(maxsize=8)
def _sequences(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(f"{e}([^{e}\r]*){e}")


def unescape(value: str, enc: Encoding) -> str:
    r"""Decode HL7 escape sequences in one value that was already split on the
    delimiters, in one pass (so \E\F\E\ is the text \F\, not a field separator).

    \F\ \S\ \T\ \R\ \E\ are the delimiters, \Xhh..\ bytes in the message's
    character set, \.br\ (and the other FT line commands) a line break; \H\, \N\,
    \Z..\ and the character-set switches are dropped. Anything else between two
    escape characters is not an escape sequence and is kept as sent.
    """
    if enc.escape not in value:  # nearly every value: nothing to replace
        return value
    named = {
        "F": enc.field,
        "S": enc.component,
        "T": enc.subcomponent,
        "R": enc.repetition,
        "E": enc.escape,
    }

    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code in named:
            return named[code]
        if hexed := _HEX.fullmatch(code):
            return bytes.fromhex(hexed.group(1)).decode(enc.charset, errors="replace")
        if _BREAKS.fullmatch(code):
            return "\n"
        if _DROPPED.fullmatch(code):
            return ""
        return m.group(0)

    return _sequences(enc.escape).sub(one, value)


def escape(value: str, enc: Encoding = Encoding()) -> str:
    e = enc.escape
    out = value.replace(e, f"{e}E{e}")
    for code, char in (
        ("F", enc.field),
        ("S", enc.component),
        ("R", enc.repetition),
        ("T", enc.subcomponent),
    ):
        out = out.replace(char, f"{e}{code}{e}")
    return out.replace("\r", " ").replace("\n", " ")


class Segment:
    def __init__(self, text: str, enc: Encoding) -> None:
        self.enc = enc
        parts = text.split(enc.field)
        self.name = parts[0]
        if self.name == "MSH":  # MSH-1 is the field separator itself
            parts = [parts[0], enc.field, *parts[1:]]
        self.fields = parts
        # (field, component, repetition, subcomponent) -> its value: a handler asks
        # for the same ones again (MSH-9, PID-3, PV1-19 ...), about 70 a message
        self._comps: dict[tuple[int, int, int, int], str] = {}

    def raw(self, n: int) -> str:
        return self.fields[n] if n < len(self.fields) else ""

    def reps(self, n: int) -> list[str]:
        value = self.raw(n)
        return value.split(self.enc.repetition) if value else []

    def comp(self, n: int, c: int = 1, *, rep: int = 0, sub: int = 1) -> str:
        key = (n, c, rep, sub)
        found = self._comps.get(key)
        if found is None:
            reps = self.reps(n)
            found = self._comps[key] = (
                component(reps[rep], c, self.enc, sub=sub) if rep < len(reps) else ""
            )
        return found


def component(rep: str, c: int, enc: Encoding, *, sub: int = 1) -> str:
    comps = rep.split(enc.component)
    if c > len(comps):
        return ""
    subs = comps[c - 1].split(enc.subcomponent)
    return unescape(subs[sub - 1], enc).strip() if sub <= len(subs) else ""


class Message:
    def __init__(
        self, text: str, charset: str = "utf-8", warnings: list[str] | None = None
    ) -> None:
        self.text = text
        self.charset = charset
        self.warnings: list[str] = warnings or []  # kept on the InterfaceMessage
        segments = _segments(text)
        if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
            raise Hl7Error("an HL7 v2 message starts with an MSH segment", "MSH", "100")
        head = segments[0]
        chars = head[4:8]
        self.enc = Encoding(head[3], chars[0], chars[1], chars[2], chars[3], charset)
        self.segments = [Segment(s, self.enc) for s in segments if s.strip()]

    def segment(self, name: str) -> Segment | None:
        return next((s for s in self.segments if s.name == name), None)

    @property
    def msh(self) -> Segment:
        return self.segments[0]


_HEADERS = ("MSH", "BHS", "FHS")


def _segments(text: str) -> list[str]:
    """The segments as python-hl7 parses and prints them back.

    python-hl7 builds the whole tree of fields and components (0.5 ms of CPU for an
    ADT message) that we only turned back into segment strings; for a well-formed
    message that round trip is the identity on each segment (it strips the message
    and splits it at carriage returns), so the split is done here and python-hl7
    parses only a message with a header segment it would read otherwise (no field
    after the encoding characters), giving the same segments or the same error.
    """
    stripped = text.strip()
    segments = stripped.split("\r")
    if not any(s[:3] in _HEADERS and s.find(s[3:4] or "\r", 4) < 0 for s in segments):
        return segments
    try:
        parsed = hl7.parse(text)
    except Exception as exc:  # python-hl7 raises several kinds
        raise Hl7Error(f"not an HL7 v2 message: {exc}", "MSH", "100") from exc
    return [str(s) for s in parsed]


def parse(raw: bytes) -> Message:
    """The message in the character set MSH-18 declares (charsets.decode)."""
    try:
        decoded = decode(raw)
    except CharsetError as exc:
        raise Hl7Error(exc.message, "MSH-18", exc.code) from exc
    text = normalised(decoded.text)
    if not text.startswith("MSH"):
        raise Hl7Error(
            f"not an HL7 v2 message: it starts with {text[:3]!r}, not MSH", "MSH", "100"
        )
    return Message(text, decoded.codec, decoded.warnings)


def normalised(text: str) -> str:
    """Segments ended by CR alone, framing and a byte-order mark removed."""
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors add
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x0b\x1c ")


_DTM = re.compile(
    r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$"
)


def parse_date(value: str, location: str) -> date | None:
    if not value:
        return None
    m = _DTM.match(value)
    if not m or not m.group(3):
        raise Hl7Error(
            f"{location} {value!r} is not a date (YYYYMMDD)", location, "102"
        )
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError as exc:
        raise Hl7Error(f"{location} {value!r} is not a date: {exc}", location) from exc


def parse_datetime(value: str, location: str, default_tz: tzinfo) -> datetime | None:
    if not value:
        return None
    m = _DTM.match(value)
    if not m or not m.group(3):
        raise Hl7Error(
            f"{location} {value!r} is not a date/time (YYYYMMDD[HHMM[SS]][+ZZZZ])",
            location,
        )
    y, mo, d, h, mi, s, off = m.groups()
    tz: tzinfo = default_tz
    try:
        if off:  # an offset past 24 hours (+9999) is refused like a bad date
            sign = 1 if off[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
        return datetime(
            int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz
        )
    except ValueError as exc:
        raise Hl7Error(
            f"{location} {value!r} is not a date/time: {exc}", location
        ) from exc
