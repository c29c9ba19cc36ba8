"""Reading a FHIR request body: only JSON that FHIR allows and we can store passes;
everything else is an Invalid (400) or UnsupportedMediaType (415) naming the
problem and where it is -- never a server error."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.http import HttpRequest

from recordroom.kernel.errors import RecordroomError

from .params import Invalid

# Deep enough for any resource (a Questionnaire's items nest a few dozen levels),
# shallow enough for every serializer we hand it to (orjson stops at 255).
MAX_DEPTH = 100
INT64 = (-(2**63), 2**63 - 1)
# FHIR strings "SHALL NOT contain Unicode character points below 32, except for
# u0009, u000D and u000A" (R4 datatypes, string); a surrogate left over after
# decoding was never paired, and no database or encoder will store it.
BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


class UnsupportedMediaType(RecordroomError):
    code = "not-supported"
    status = 415


class _Literal:
    """A number JSON allows but we cannot keep, held until its path is known."""

    def __init__(self, text: str, why: str) -> None:
        self.text, self.why = text, why


def _int(text: str) -> Any:
    # Checked on the digits: int() itself refuses past 4,300 of them.
    if len(text.lstrip("-")) > 19 or not INT64[0] <= int(text) <= INT64[1]:
        return _Literal(text, "is beyond 64 bits; FHIR integers are 32-bit")
    return int(text)


def _float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _Literal(text, "is too large a number")


def _constant(text: str) -> Any:
    return _Literal(text, "is not a JSON number (NaN and Infinity are not allowed)")


def check_media_type(request: HttpRequest) -> None:
    """FHIR JSON, in UTF-8; no Content-Type at all is taken as JSON."""
    ctype = (request.content_type or "").lower()
    if ctype and ctype not in JSON_TYPES and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"Content-Type {ctype!r} is not supported; send FHIR JSON as "
            "application/fhir+json", field="Content-Type")  # fmt: skip
    charset = (request.content_params or {}).get("charset", "utf-8").lower()
    if charset.replace("-", "") != "utf8":
        raise UnsupportedMediaType(
            f"charset {charset!r} is not supported; FHIR JSON is UTF-8",
            field="Content-Type")  # fmt: skip


def loads(data: bytes) -> Any:
    """The JSON value of `data`, checked all through (see `check`)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"the body is not UTF-8 (byte {exc.start}); FHIR JSON is UTF-8"
                      ) from None  # fmt: skip
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float,
                           parse_constant=_constant)  # fmt: skip
    except json.JSONDecodeError as exc:
        raise Invalid(f"the body is not JSON: {exc.msg} at line {exc.lineno} column "
                      f"{exc.colno}") from None  # fmt: skip
    except RecursionError:
        raise Invalid(f"the body nests arrays or objects deeper than {MAX_DEPTH} "
                      "levels; no FHIR resource needs that") from None  # fmt: skip
    check(value)
    return value


def check(value: Any) -> None:
    """Walk a parsed body (without recursion) and refuse, by path, what FHIR or
    our storage cannot hold."""
    root = value.get("resourceType") if isinstance(value, dict) else None
    stack: list[tuple[Any, str, int]] = [(value, root if isinstance(root, str)
                                          else "$", 1)]  # fmt: skip
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            path = path if len(path) < 80 else f"{path[:80]}..."
            raise Invalid(f"{path} nests arrays or objects deeper than {MAX_DEPTH} "
                          "levels; no FHIR resource needs that", field=path)  # fmt: skip
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key, f"{path} (a property name)")
                stack.append((child, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            stack.extend((c, f"{path}[{n}]", depth + 1) for n, c in enumerate(item))
        elif isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, _Literal):
            shown = item.text if len(item.text) <= 40 else f"{item.text[:40]}..."
            raise Invalid(f"{path}: {shown} {item.why}", field=path)


def _check_text(text: str, path: str) -> None:
    bad = BAD_CHAR.search(text)
    if bad is None:
        return
    char = ord(bad.group())
    what = "an unpaired surrogate" if char >= 0xD800 else "a control character"
    raise Invalid(f"{path} holds {what} (U+{char:04X}) at character {bad.start()}; "
                  "FHIR strings may not", field=path.split(" ")[0])  # fmt: skip
