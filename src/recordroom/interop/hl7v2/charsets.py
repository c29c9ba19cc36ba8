"""The character set a message's bytes are in: MSH-18 (HL7 table 0211) when declared,
else UTF-8, else Windows-1252 with a warning (what undeclared senders mostly send).

MSH-18 is read from the bytes before decoding: every set accepted here keeps the ASCII
delimiters of the MSH segment as single bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CharsetError(ValueError):
    """MSH-18 names a set we do not read, or the bytes are not in the declared set;
    `code` is the ERR-3 code (HL7 table 0357)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


# HL7 table 0211 (alternate character sets) -> Python codec; UNICODE and UTF-8 are the
# names senders use for UTF-8 besides the table's "UNICODE UTF-8".
CHARSETS = {
    "ASCII": "ascii",
    "ISO IR6": "ascii",
    "8859/1": "iso8859-1",
    "ISO IR100": "iso8859-1",
    "8859/2": "iso8859-2",
    "ISO IR101": "iso8859-2",
    "8859/3": "iso8859-3",
    "ISO IR109": "iso8859-3",
    "8859/4": "iso8859-4",
    "ISO IR110": "iso8859-4",
    "8859/5": "iso8859-5",
    "ISO IR144": "iso8859-5",
    "8859/6": "iso8859-6",
    "ISO IR127": "iso8859-6",
    "8859/7": "iso8859-7",
    "ISO IR126": "iso8859-7",
    "8859/8": "iso8859-8",
    "ISO IR138": "iso8859-8",
    "8859/9": "iso8859-9",
    "ISO IR148": "iso8859-9",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "ISO IR192": "utf-8",
    "UNICODE": "utf-8",
    "UTF-8": "utf-8",
    "GB 18030-2000": "gb18030",
    "BIG-5": "big5",
    "KS X 1001": "euc-kr",
}
# Declared sets whose delimiters are not single ASCII bytes: named in the refusal.
NOT_BYTE_DELIMITED = {"UNICODE UTF-16", "UNICODE UTF-32"}
DEFAULT = "utf-8"
FALLBACK = "cp1252"


@dataclass
class Decoded:
    text: str
    codec: str  # the Python codec the message was read with
    declared: str = ""  # MSH-18 as sent (first repetition), "" when undeclared
    warnings: list[str] = field(default_factory=list)


def declared_charset(raw: bytes) -> str:
    """MSH-18's first repetition, upper-cased, from the raw bytes ("" if absent)."""
    if not raw.startswith(b"MSH") or len(raw) < 8:
        return ""
    sep, rep = raw[3:4], raw[5:6]
    head = raw.split(b"\r", 1)[0].split(b"\n", 1)[0]
    fields = head.split(sep)
    if len(fields) < 18:  # fields[0] is "MSH", fields[n - 1] is MSH-n
        return ""
    value = fields[17].split(rep, 1)[0] if rep else fields[17]
    return value.decode("ascii", errors="replace").strip().upper()


def decode(raw: bytes) -> Decoded:
    """The message as text, read in its declared (or detected) character set.

    Raises:
        CharsetError: MSH-18 names a set we do not read, or the bytes are not in it.
    """
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark some editors add
    declared = declared_charset(raw)
    if not declared:
        return _undeclared(raw)
    codec = CHARSETS.get(declared)
    if codec is None:
        why = (
            "its delimiters are not single bytes; send UNICODE UTF-8"
            if declared in NOT_BYTE_DELIMITED
            else f"accepted: {', '.join(CHARSETS)}"
        )
        raise CharsetError(
            f"MSH-18 character set {declared!r} is not supported ({why})", "103"
        )
    try:
        return Decoded(raw.decode(codec), codec, declared)
    except UnicodeDecodeError as exc:
        raise CharsetError(
            f"message is not {declared} text as MSH-18 declares: byte "
            f"0x{raw[exc.start]:02X} at offset {exc.start}; declare the character set "
            "it is in",
            "102",
        ) from exc


def _undeclared(raw: bytes) -> Decoded:
    try:
        return Decoded(raw.decode(DEFAULT), DEFAULT)
    except UnicodeDecodeError as exc:
        bad = f"byte 0x{raw[exc.start]:02X} at offset {exc.start}"
    try:
        text = raw.decode(FALLBACK)
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: undefined in 1252
        text = raw.decode("iso8859-1")
    warning = (
        f"MSH-18 declares no character set and the message is not UTF-8 ({bad}); "
        "read as Windows-1252. Ask the sender to declare MSH-18 (e.g. 8859/1 or "
        "UNICODE UTF-8)"
    )
    return Decoded(text, FALLBACK, "", [warning])


def readable(raw: bytes) -> str:
    """The message as text for display, whatever its bytes (never raises)."""
    try:
        return decode(raw).text
    except CharsetError:
        return raw.decode("utf-8", errors="replace")
