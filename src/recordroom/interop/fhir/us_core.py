"""US Core 6.1 patient demographics both ways: race, ethnicity and birth sex
(extensions), marital status, languages, multiple birth and death, as the fields
of Patient (mpi.models.US_CORE_FIELDS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import values as v
from .values import Rejected

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
RACE = US_CORE + "us-core-race"
ETHNICITY = US_CORE + "us-core-ethnicity"
BIRTH_SEX = US_CORE + "us-core-birthsex"
CDC_RACE = "urn:oid:2.16.840.1.113883.6.238"  # CDC Race & Ethnicity code set
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
NULL_CODES = {"UNK", "ASKU"}
BIRTH_SEXES = ("F", "M", "ASKU", "UNK", "OTH")


def _coding(value: Any, expr: str) -> dict[str, str]:
    c = v.obj(value, expr)
    out = {k: v.text(c.get(k), f"{expr}.{k}", 300) for k in ("system", "code", "display")}
    if not out["code"]:
        raise Rejected(f"{expr}.code: a coding needs its code", expr)
    return {k: x for k, x in out.items() if x}


def _race_or_ethnicity(ext: dict[str, Any], expr: str) -> dict[str, Any]:
    """{"ombCategory": [...], "detailed": [...], "text": ...}, codes as sent; a code
    outside the CDC Race & Ethnicity code set (or UNK/ASKU) is refused, named."""
    out: dict[str, Any] = {"ombCategory": [], "detailed": [], "text": ""}
    for i, part in enumerate(v.items(ext.get("extension"), f"{expr}.extension")):
        e = f"{expr}.extension[{i}]"
        part = v.obj(part, e)
        url = v.text(part.get("url"), f"{e}.url")
        if url == "text":
            out["text"] = v.text(part.get("valueString"), f"{e}.valueString", 200)
        elif url in ("ombCategory", "detailed"):
            coding = _coding(part.get("valueCoding"), f"{e}.valueCoding")
            system = coding.get("system", "")
            if system != CDC_RACE and not (
                system == NULL_FLAVOR and coding["code"] in NULL_CODES
            ):
                raise Rejected(f"{e}.valueCoding {system}|{coding['code']} is not a "
                               f"code of {CDC_RACE} (CDC Race & Ethnicity) or "
                               f"{NULL_FLAVOR} UNK/ASKU", e)  # fmt: skip
            out[url].append(coding)
    return {k: x for k, x in out.items() if x}


def demographics_in(res: dict[str, Any]) -> dict[str, Any]:
    """What the Patient resource carries of US_CORE_FIELDS (only what it sends)."""
    out: dict[str, Any] = {}
    for i, ext in enumerate(v.items(res.get("extension"), "Patient.extension")):
        e = f"Patient.extension[{i}]"
        ext = v.obj(ext, e)
        url = v.text(ext.get("url"), f"{e}.url", 400)
        if url == RACE:
            out["race"] = _race_or_ethnicity(ext, e)
        elif url == ETHNICITY:
            out["ethnicity"] = _race_or_ethnicity(ext, e)
        elif url == BIRTH_SEX:
            code = v.text(ext.get("valueCode"), f"{e}.valueCode", 10)
            if code not in BIRTH_SEXES:
                raise Rejected(f"{e}.valueCode {code!r} is not a US Core birth sex "
                               f"({', '.join(BIRTH_SEXES)})", e)  # fmt: skip
            out["birth_sex"] = code
    if "maritalStatus" in res:
        out["marital_status"] = v.codeable(res["maritalStatus"], "Patient.maritalStatus")
    if "communication" in res:
        out["communication"] = _communication(res["communication"])
    if "multipleBirthBoolean" in res:
        flag = res["multipleBirthBoolean"]
        if not isinstance(flag, bool):
            raise Rejected("Patient.multipleBirthBoolean must be true or false",
                           "Patient.multipleBirthBoolean")  # fmt: skip
        out["multiple_birth"], out["birth_order"] = flag, None
    elif "multipleBirthInteger" in res:
        order = res["multipleBirthInteger"]
        if isinstance(order, bool) or not isinstance(order, int) or not 0 < order < 100:
            raise Rejected(f"Patient.multipleBirthInteger {order!r} is not a birth order "
                           "(1, 2, 3 ...)", "Patient.multipleBirthInteger")  # fmt: skip
        out["multiple_birth"], out["birth_order"] = True, order
    out.update(_deceased(res))
    return out


def _communication(value: Any) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(v.items(value, "Patient.communication")):
        e = f"Patient.communication[{i}]"
        c = v.obj(c, e)
        if "language" not in c:
            raise Rejected(f"{e}.language: a communication needs its language", e)
        preferred = c.get("preferred", False)
        if not isinstance(preferred, bool):
            raise Rejected(f"{e}.preferred must be true or false", f"{e}.preferred")
        item: dict[str, Any] = {"language": v.codeable(c["language"], f"{e}.language")}
        if preferred:
            item["preferred"] = True
        out.append(item)
    return out


def _deceased(res: dict[str, Any]) -> dict[str, Any]:
    if "deceasedDateTime" in res:
        raw = v.text(res["deceasedDateTime"], "Patient.deceasedDateTime", 40)
        at = v.date_time(raw, "Patient.deceasedDateTime")
        # A date alone is kept as the date (deceased_date), not as midnight UTC.
        return {"deceased": True, "deceased_at": at if at and "T" in raw else None}
    if "deceasedBoolean" in res:
        flag = res["deceasedBoolean"]
        if not isinstance(flag, bool):
            raise Rejected("Patient.deceasedBoolean must be true or false",
                           "Patient.deceasedBoolean")  # fmt: skip
        return {"deceased": flag, "deceased_at": None}
    return {}


def demographics_out(p: Any) -> dict[str, Any]:
    """The elements of a Patient resource for US_CORE_FIELDS (empty ones left out)."""
    extensions = []
    for url, value in ((RACE, p.race), (ETHNICITY, p.ethnicity)):
        if value:
            parts = [{"url": kind, "valueCoding": c} for kind in ("ombCategory", "detailed")
                     for c in value.get(kind, [])]  # fmt: skip
            if value.get("text"):
                parts.append({"url": "text", "valueString": value["text"]})
            extensions.append({"url": url, "extension": parts})
    if p.birth_sex:
        extensions.append({"url": BIRTH_SEX, "valueCode": p.birth_sex})
    out: dict[str, Any] = {"extension": extensions}
    if p.marital_status:
        out["maritalStatus"] = p.marital_status
    if p.communication:
        out["communication"] = p.communication
    if p.birth_order:
        out["multipleBirthInteger"] = p.birth_order
    elif p.multiple_birth is not None:
        out["multipleBirthBoolean"] = p.multiple_birth
    deceased: datetime | None = p.deceased_at
    if deceased is not None:
        out["deceasedDateTime"] = deceased.isoformat()
    elif p.deceased_date is not None:
        out["deceasedDateTime"] = p.deceased_date.isoformat()
    elif p.deceased:
        out["deceasedBoolean"] = True
    return {k: x for k, x in out.items() if x not in (None, [], {})}
