"""MS-DRG grouping with the edits a coder needs before a claim goes out.

A claim (one inpatient stay) is grouped by `msdrg` with the grouper version in force
on its discharge date, and checked against the code-set releases in force that day:

* R-COD-1: each code valid in the release in force on the discharge date (ICD-10-CM
  and, when one is loaded, ICD-10-PCS; without a PCS release, the Medicare Code
  Editor's own code master says which procedure codes are valid);
* R-COD-2: a header code (one with codes under it, or lacking its 7th character)
  may not be reported;
* R-COD-3: two codes one of whose Excludes1 notes names the other (a warning: the
  coder confirms the conditions are unrelated), and a code reported twice;
* R-COD-4: the Medicare Code Editor's edits, as `msdrg`'s MCE finds them for the
  discharge date, each with the codes that trigger it;
* R-COD-5: a present-on-admission value on every diagnosis not on the POA exempt
  list in force, blank or "1" on those that are, and nothing but Y, N, U, W, 1 or
  blank.

The releases are read once per process (codesets.releases); a claim costs the
grouper's and the editor's calls plus set look-ups, so a year of claims regroups in
minutes (bench/coding_group.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from recordroom.kernel.errors import ValidationFailed

from .codesets import Releases, releases
from .loaders import cm_display, normalize

# MS-DRG grouper versions (msdrg) and the first discharge day of each
GROUPER_VERSIONS: tuple[tuple[date, int], ...] = (
    (date(2022, 10, 1), 400),
    (date(2023, 4, 1), 401),
    (date(2023, 10, 1), 410),
    (date(2024, 4, 1), 411),
    (date(2024, 10, 1), 420),
    (date(2025, 4, 1), 421),
    (date(2025, 10, 1), 430),
    (date(2026, 4, 1), 431),
    (date(2026, 10, 1), 440),
)
LAST_GROUPER_DAY = date(2027, 3, 31)
SEXES = {"M": 0, "F": 1, "U": 2}
POA_VALUES = {"Y", "N", "U", "W", "1", ""}
MAX_DIAGNOSES = 25  # the 837I's principal and 24 others
MAX_PROCEDURES = 25

# R-COD-4: the MCE's edits, by msdrg's names, with the RULES.md item and plain words
MCE_EDITS: dict[str, tuple[str, str]] = {
    "INVALID_CODE": (
        "4.1",
        "invalid diagnosis or procedure code for the discharge date",
    ),
    "E_CODE_AS_PDX": ("4.2", "external cause code as principal diagnosis"),
    "DUPLICATE_OF_PDX": (
        "4.3",
        "secondary diagnosis duplicates the principal diagnosis",
    ),
    "AGE_CONFLICT": (
        "4.4",
        "diagnosis or procedure inconsistent with the patient's age",
    ),
    "SEX_CONFLICT": (
        "4.5",
        "diagnosis or procedure inconsistent with the patient's sex",
    ),
    "MANIFESTATION_AS_PDX": ("4.6", "manifestation code as principal diagnosis"),
    "QUESTIONABLE_ADMISSION": ("4.7", "questionable admission"),
    "QUESTIONABLE_OBSTETRIC_ADMISSION": ("4.7", "questionable obstetric admission"),
    "UNACCEPTABLE_PDX": ("4.8", "unacceptable principal diagnosis"),
    "NON_COVERED": ("4.9", "non-covered procedure"),
    "LIMITED_COVERAGE": ("4.10", "limited coverage procedure"),
    "BILATERAL": ("4.11", "bilateral procedure"),
    "INVALID_AGE": ("4.12", "invalid age"),
    "INVALID_SEX": ("4.12", "invalid sex"),
    "INVALID_DISCHARGE_STATUS": ("4.12", "invalid discharge status"),
    "WRONG_PROCEDURE_PERFORMED": ("4.13", "wrong procedure performed"),
    "INCONSISTENT_WITH_LENGTH_OF_STAY": (
        "4.14",
        "procedure inconsistent with length of stay",
    ),
    "UNSPECIFIED": ("4.15", "unspecified code"),
}
# edits about the principal diagnosis alone
PDX_EDITS = {
    "E_CODE_AS_PDX",
    "MANIFESTATION_AS_PDX",
    "UNACCEPTABLE_PDX",
    "QUESTIONABLE_ADMISSION",
    "QUESTIONABLE_OBSTETRIC_ADMISSION",
    "NONSPECIFIC_PDX",
    "REQUIRES_SDX",
}
CLAIM_EDITS = {"INVALID_AGE", "INVALID_SEX", "INVALID_DISCHARGE_STATUS"}


def grouper_version(day: date) -> int | None:
    """The msdrg grouper version for a discharge day, or None outside its range."""
    if day > LAST_GROUPER_DAY:
        return None
    found = None
    for start, version in GROUPER_VERSIONS:
        if day >= start:
            found = version
    return found


@dataclass(frozen=True)
class Dx:
    code: str
    poa: str


@dataclass(frozen=True)
class Claim:
    id: str
    age: int
    sex: str
    discharge_status: str
    discharge_date: date
    principal: Dx
    secondary: tuple[Dx, ...]
    procedures: tuple[str, ...]


def _dx(value: Any, where: str, poa: Any = None) -> Dx:
    if type(value) is dict:
        poa = value.get("poa", poa)
        value = value.get("code")
    if type(value) is not str or not value.strip():
        raise ValidationFailed(f"{where}: give a diagnosis code", field=where)
    code = value.strip().upper().replace(".", "")
    if len(code) > 7 or not code.isalnum():
        raise ValidationFailed(
            f"{where}: {value!r} is not an ICD-10-CM code", field=where
        )
    if poa is None:
        return Dx(code, "")
    if type(poa) is not str:
        raise ValidationFailed(f"{where}: poa {poa!r} is not text", field=where)
    return Dx(code, poa.strip().upper())


def parse_claim(obj: Any) -> Claim:
    """A claim from the JSON the command line and the API take; bad input is refused
    with what is wrong and where."""
    if not isinstance(obj, dict):
        raise ValidationFailed("a claim is a JSON object")
    ident = obj.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if not isinstance(ident, str) or not ident.strip():
        raise ValidationFailed("id: every claim needs an id", field="id")
    age = obj.get("age")
    if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 124:
        raise ValidationFailed(
            f"age: {age!r} is not a whole number of years 0-124", field="age"
        )
    sex = obj.get("sex")
    if not isinstance(sex, str) or sex.strip().upper() not in SEXES:
        raise ValidationFailed(f"sex: {sex!r}; give M, F or U", field="sex")
    status = obj.get("discharge_status")
    if isinstance(status, int) and not isinstance(status, bool):
        status = f"{status:02d}"
    if (
        not isinstance(status, str)
        or not status.strip().isdigit()
        or len(status.strip()) > 2
    ):
        raise ValidationFailed(
            f"discharge_status: {status!r} is not a two-digit patient discharge status",
            field="discharge_status",
        )
    raw_day = obj.get("discharge_date")
    try:
        day = date.fromisoformat(raw_day) if isinstance(raw_day, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed(
            f"discharge_date: {raw_day!r} is not a date (YYYY-MM-DD)",
            field="discharge_date",
        )
    if "principal" not in obj:
        raise ValidationFailed(
            "principal: every claim needs a principal diagnosis", field="principal"
        )
    principal = _dx(obj["principal"], "principal", obj.get("principal_poa"))
    secondary = obj.get("secondary") or []
    procedures = obj.get("procedures") or []
    if not isinstance(secondary, list) or len(secondary) > MAX_DIAGNOSES - 1:
        raise ValidationFailed(
            f"secondary: a list of at most {MAX_DIAGNOSES - 1} diagnoses",
            field="secondary",
        )
    if not isinstance(procedures, list) or len(procedures) > MAX_PROCEDURES:
        raise ValidationFailed(
            f"procedures: a list of at most {MAX_PROCEDURES} codes", field="procedures"
        )
    procs = []
    for i, p in enumerate(procedures):
        value = p.get("code") if isinstance(p, dict) else p
        code = normalize(value) if isinstance(value, str) else ""
        if not code.isalnum() or len(code) != 7:
            raise ValidationFailed(
                f"procedures[{i}]: {value!r} is not a 7-character ICD-10-PCS code",
                field="procedures",
            )
        procs.append(code)
    return Claim(
        id=ident.strip(),
        age=age,
        sex=sex.strip().upper(),
        discharge_status=status.strip().zfill(2),
        discharge_date=day,
        principal=principal,
        secondary=tuple(_dx(s, f"secondary[{i}]") for i, s in enumerate(secondary)),
        procedures=tuple(procs),
    )


@dataclass
class Edits:
    found: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        rule: str,
        edit: str,
        codes: list[str],
        message: str,
        severity: str = "error",
    ) -> None:
        self.found.append(
            {
                "rule": rule,
                "edit": edit,
                "severity": severity,
                "codes": codes,
                "message": message,
            }
        )


class Grouper:
    """Groups claims; open it once for a run (`with Grouper() as g:`)."""

    def __init__(self, cache: Releases | None = None) -> None:
        import msdrg

        self.releases = cache or releases
        self._grouper = msdrg.MsdrgGrouper()
        self._mce = msdrg.MceEditor()

    def _native(self, fn: Any, ctx: Any, data: dict[str, Any]) -> Any:
        """One call of msdrg's native library on input parse_claim has already
        checked (its Python wrapper checks it again and copies it: a third of the
        grouper's time), the same JSON in and out as `group()` and `edit()`."""
        import ctypes

        ptr = fn(ctx, orjson.dumps(data))
        if not ptr:
            raise RuntimeError(f"msdrg refused the claim (pdx {data['pdx']['code']})")
        try:
            return orjson.loads(ctypes.cast(ptr, ctypes.c_char_p).value or b"{}")
        finally:
            self._grouper.lib.msdrg_string_free(ptr)

    def _edit(self, data: dict[str, Any]) -> Any:
        return self._native(self._mce.lib.mce_edit_json, self._mce.ctx, data)

    def __enter__(self) -> Grouper:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def close(self) -> None:
        self._grouper.close()
        self._mce.close()

    @staticmethod
    def dumps(result: dict[str, Any]) -> bytes:
        return orjson.dumps(result, option=orjson.OPT_APPEND_NEWLINE)

    def group_line(self, line: bytes | str, n: int = 0) -> dict[str, Any]:
        """One JSON line in, one result out; unreadable input becomes `error`."""
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as e:
            return {"id": None, "line": n, "error": f"not JSON: {e}"}
        try:
            claim = parse_claim(obj)
        except ValidationFailed as e:
            ident = obj.get("id") if isinstance(obj, dict) else None
            return {"id": ident, "line": n, "error": e.message}
        return self.group(claim)

    # --- the edits ---------------------------------------------------------------------

    def _code_edits(self, claim: Claim, edits: Edits) -> set[str]:
        """R-COD-1, R-COD-2, R-COD-3 duplicates; returns the diagnoses that are valid."""
        day = claim.discharge_date
        dxs = [claim.principal.code, *(d.code for d in claim.secondary)]
        valid: set[str] = set()
        cm = self.releases.cm(day)
        if cm is None:
            edits.add(
                "R-COD-1",
                "NO_ICD10CM_RELEASE",
                [],
                f"no ICD-10-CM release loaded is in force on {day}: diagnoses are "
                "checked by the Medicare Code Editor alone (`recordroom codes load`)",
                "warning",
            )
            valid.update(dxs)
        else:
            for code in dict.fromkeys(dxs):
                if code in cm.billable:
                    valid.add(code)
                elif code in cm.headers:
                    needs = (
                        "needs a 7th character"
                        if cm.headers[code]
                        else "has codes under it; report one of them"
                    )
                    edits.add(
                        "R-COD-2",
                        "HEADER_CODE",
                        [cm_display(code)],
                        f"{cm_display(code)} is a header, not a full code: it {needs}",
                    )
                else:
                    edits.add(
                        "R-COD-1",
                        "INVALID_CODE",
                        [cm_display(code)],
                        f"{cm_display(code)} is not an ICD-10-CM code in "
                        f"{cm.version.label}, in force on {day}",
                    )
        pcs = self.releases.pcs(day)
        if pcs is not None:
            for code in dict.fromkeys(claim.procedures):
                if code not in pcs.codes:
                    edits.add(
                        "R-COD-1",
                        "INVALID_CODE",
                        [code],
                        f"{code} is not an ICD-10-PCS code in {pcs.version.label}, "
                        f"in force on {day}",
                    )
        seen: set[str] = set()
        for d in claim.secondary:
            if d.code in seen:
                edits.add(
                    "R-COD-3",
                    "CODE_REPEATED",
                    [cm_display(d.code)],
                    f"{cm_display(d.code)} is reported more than once (a code is "
                    "reported once per encounter)",
                )
            seen.add(d.code)
        if cm is not None:
            self._excludes1(cm, [c for c in dict.fromkeys(dxs) if c in valid], edits)
        return valid

    @staticmethod
    def _excludes1(cm: Any, codes: list[str], edits: Edits) -> None:
        """R-COD-3: each code's Excludes1 notes (its own and its ancestors') against
        the others, by their prefixes (a set intersection per code)."""
        if len(codes) < 2:
            return
        under = {b[:k] for b in codes for k in range(3, len(b) + 1)}
        pairs: dict[tuple[str, str], str] = {}
        for a in codes:
            prefixes, ranges = cm.excluded(a)
            found = prefixes & under
            hits = [b for b in codes if found and any(b.startswith(p) for p in found)]
            if ranges:
                hits += [b for r in ranges for b in codes if r.covers(b)]
            for b in hits:
                if b != a:
                    pairs.setdefault((min(a, b), max(a, b)), a)
        for (x, y), a in pairs.items():
            b = y if a == x else x
            edits.add(
                "R-COD-3",
                "EXCLUDES1",
                [cm_display(x), cm_display(y)],
                f"{cm_display(a)} has an Excludes1 note naming {cm_display(b)}: the "
                "two are not reported together unless the conditions are unrelated; "
                "confirm",
                "warning",
            )

    def _poa_edits(self, claim: Claim, edits: Edits) -> None:
        """R-COD-5 on the principal and every secondary diagnosis."""
        exempt = self.releases.poa_exempt(claim.discharge_date)
        for d in (claim.principal, *claim.secondary):
            if (
                d.poa in "YNUW"
                and d.poa
                and (exempt is None or d.code not in exempt.codes)
            ):
                continue  # the common case: a value, on a code that needs one
            shown = cm_display(d.code)
            if d.poa not in POA_VALUES:
                edits.add(
                    "R-COD-5",
                    "POA_INVALID",
                    [shown],
                    f"{shown}: present-on-admission value {d.poa!r} is not Y, N, U, W, "
                    "1 or blank",
                )
                continue
            if exempt is None:
                if d.poa in ("", "1"):
                    edits.add(
                        "R-COD-5",
                        "POA_MISSING",
                        [shown],
                        f"{shown} has no present-on-admission value; no POA exempt "
                        f"list is loaded for {claim.discharge_date}, so whether it is "
                        "exempt cannot be told",
                        "warning",
                    )
            elif d.code in exempt.codes:
                if d.poa not in ("", "1"):
                    edits.add(
                        "R-COD-5",
                        "POA_ON_EXEMPT",
                        [shown],
                        f"{shown} is exempt from POA reporting: leave it blank (or 1), "
                        f"not {d.poa}",
                    )
            elif d.poa in ("", "1"):
                edits.add(
                    "R-COD-5",
                    "POA_MISSING",
                    [shown],
                    f"{shown} needs a present-on-admission value (Y, N, U or W)",
                )

    def _mce_claim(
        self,
        claim: Claim,
        sdx: list[dict[str, str]] | None = None,
        procs: list[str] | None = None,
        skip: set[str] | frozenset[str] = frozenset(),
    ) -> Any:
        day = claim.discharge_date
        if sdx is None:
            sdx = [{"code": d.code} for d in claim.secondary if d.code not in skip]
        if procs is None:
            procs = [c for c in claim.procedures if c not in skip]
        return {
            "discharge_date": day.year * 10000 + day.month * 100 + day.day,
            "age": claim.age,
            "sex": SEXES[claim.sex],
            "discharge_status": int(claim.discharge_status),
            "pdx": {"code": claim.principal.code},
            "sdx": sdx,
            "procedures": [{"code": c} for c in procs],
        }

    def _mce_edits(self, claim: Claim, edits: Edits, flagged: set[str]) -> None:
        """R-COD-4 through msdrg's MCE, each edit with the codes that trigger it (found
        by asking the editor about each code alone when the name does not say). The
        editor stops at an invalid code, so the codes already refused by R-COD-1 or
        R-COD-2 are left out of what it is asked, that its other edits still show."""
        try:
            result = self._edit(self._mce_claim(claim, skip=flagged))
        except (ValueError, RuntimeError) as e:
            edits.add(
                "R-COD-4",
                "MCE_FAILED",
                [],
                f"the Medicare Code Editor refused the claim: {e}",
            )
            return
        for edit in result.get("edits", []):
            name = edit["name"]
            item, words = MCE_EDITS.get(name, ("", name.replace("_", " ").lower()))
            pdx = cm_display(claim.principal.code)
            if name in PDX_EDITS:
                codes = [pdx]
            elif name == "DUPLICATE_OF_PDX":
                codes = [pdx]
            elif name in CLAIM_EDITS:
                codes = []
            else:
                codes = self._mce_codes(claim, name, edit.get("code_type", ""), flagged)
            where = f" (MCE edit {item})" if item else ""
            edits.add(
                "R-COD-4",
                name,
                codes,
                f"{words}{where}" + (f": {', '.join(codes)}" if codes else ""),
                "warning" if edit.get("edit_type") == "POSTPAYMENT" else "error",
            )

    def _mce_codes(
        self, claim: Claim, name: str, code_type: str, flagged: set[str]
    ) -> list[str]:
        found: list[str] = []
        if code_type in ("DIAGNOSIS", "BOTH", ""):
            alone = self._edit(self._mce_claim(claim, sdx=[], procs=[]))
            if any(e["name"] == name for e in alone.get("edits", [])):
                found.append(cm_display(claim.principal.code))
            for d in dict.fromkeys(
                x.code for x in claim.secondary if x.code not in flagged
            ):
                one = self._edit(self._mce_claim(claim, sdx=[{"code": d}], procs=[]))
                if any(e["name"] == name for e in one.get("edits", [])):
                    found.append(cm_display(d))
        if code_type in ("PROCEDURE", "BOTH", ""):
            for p in dict.fromkeys(c for c in claim.procedures if c not in flagged):
                one = self._edit(self._mce_claim(claim, sdx=[], procs=[p]))
                if any(e["name"] == name for e in one.get("edits", [])):
                    found.append(p)
            if not found:  # an edit about a combination (bilateral, limited coverage)
                found = list(
                    dict.fromkeys(c for c in claim.procedures if c not in flagged)
                )
        return list(dict.fromkeys(found))

    # --- grouping ------------------------------------------------------------------------

    def group(self, claim: Claim) -> dict[str, Any]:
        edits = Edits()
        self._code_edits(claim, edits)
        self._poa_edits(claim, edits)
        flagged = {
            normalize(c)
            for e in edits.found
            if e["rule"] in ("R-COD-1", "R-COD-2")
            for c in e["codes"]
        }
        self._mce_edits(claim, edits, flagged)
        out: dict[str, Any] = {
            "id": claim.id,
            "drg": None,
            "mdc": None,
            "drg_title": None,
            "relative_weight": None,
            "severity": None,
            "grouper_version": None,
            "return_code": None,
        }
        version = grouper_version(claim.discharge_date)
        if version is None:
            edits.add(
                "R-COD-1",
                "NO_GROUPER_VERSION",
                [],
                f"no MS-DRG grouper version covers a discharge on {claim.discharge_date}",
            )
        else:
            result = self._group(claim, version)
            drg = result.get("final_drg")
            mdc = result.get("final_mdc")
            out.update(
                drg=f"{drg:03d}" if isinstance(drg, int) else None,
                mdc=f"{mdc:02d}" if isinstance(mdc, int) else None,
                drg_title=result.get("final_drg_description") or None,
                severity=result.get("final_severity"),
                grouper_version=f"{version // 10}.{version % 10}",
                return_code=result.get("return_code"),
            )
            weights = self.releases.weights(claim.discharge_date)
            if weights is not None and out["drg"] is not None:
                w: Decimal | None = weights.weights.get(out["drg"])
                out["relative_weight"] = float(w) if w is not None else None
        out["edits"] = edits.found
        return out

    def _group(self, claim: Claim, version: int) -> dict[str, Any]:
        def dx(d: Dx) -> dict[str, str]:
            return (
                {"code": d.code, "poa": d.poa}
                if d.poa in ("Y", "N", "U", "W")
                else {"code": d.code}
            )

        data = {
            "version": version,
            "age": claim.age,
            "sex": SEXES[claim.sex],
            "discharge_status": int(claim.discharge_status),
            "pdx": dx(claim.principal),
            "sdx": [dx(d) for d in claim.secondary],
            "procedures": [{"code": c} for c in claim.procedures],
        }
        return self._native(self._grouper.lib.msdrg_group_json, self._grouper.ctx, data)
