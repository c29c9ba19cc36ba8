"""A hand check of FHIR R4 AuditEvent structure (fhir.resources is not a dependency).

It knows the R4 (4.0.1) AuditEvent element names, cardinalities and required
elements, the action/outcome value sets and the datatypes we emit, and returns a
list of problems (empty when the resource conforms to what is checked).
"""

from __future__ import annotations

import base64
import re
from typing import Any

ROOT = {
    "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
    "extension", "modifierExtension", "type", "subtype", "action", "period", "recorded",
    "outcome", "outcomeDesc", "purposeOfEvent", "agent", "source", "entity",
}  # fmt: skip
AGENT = {
    "id", "extension", "modifierExtension", "type", "role", "who", "altId", "name",
    "requestor", "location", "policy", "media", "network", "purposeOfUse",
}  # fmt: skip
SOURCE = {"id", "extension", "site", "observer", "type"}
ENTITY = {
    "id", "extension", "what", "type", "role", "lifecycle", "securityLabel", "name",
    "description", "query", "detail",
}  # fmt: skip
CODING = {"system", "version", "code", "display", "userSelected"}
REFERENCE = {"reference", "type", "identifier", "display"}
IDENTIFIER = {"use", "type", "system", "value", "period", "assigner"}
INSTANT = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _keys(obj: Any, allowed: set[str], where: str, out: list[str]) -> None:
    if not isinstance(obj, dict):
        out.append(f"{where} is not an object")
        return
    out += [f"{where}.{k} is not an R4 element" for k in sorted(set(obj) - allowed)]
    out += [f"{where}.{k} is empty" for k, v in obj.items() if v in ("", [], {}, None)]


def _coding(obj: Any, where: str, out: list[str]) -> None:
    _keys(obj, CODING, where, out)
    if isinstance(obj, dict) and not obj.get("code"):
        out.append(f"{where} has no code")


def _concept(obj: Any, where: str, out: list[str]) -> None:
    _keys(obj, {"coding", "text"}, where, out)
    for i, c in enumerate(obj.get("coding", []) if isinstance(obj, dict) else []):
        _coding(c, f"{where}.coding[{i}]", out)


def _reference(obj: Any, where: str, out: list[str]) -> None:
    _keys(obj, REFERENCE, where, out)
    if isinstance(obj, dict):
        if "identifier" in obj:
            _keys(obj["identifier"], IDENTIFIER, f"{where}.identifier", out)
        ref = obj.get("reference")
        if ref is not None and not re.match(
            r"^(#\S+|[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})", ref
        ):
            out.append(f"{where}.reference {ref!r} is not Type/id")


def _extensions(exts: Any, where: str, out: list[str]) -> None:
    for i, ext in enumerate(exts):
        w = f"{where}.extension[{i}]"
        if not ext.get("url"):
            out.append(f"{w} has no url")
        values = [k for k in ext if k.startswith("value")]
        if bool(values) == bool(ext.get("extension")):  # ext-1
            out.append(f"{w} must have either a value or extensions, not both")
        _extensions(ext.get("extension", []), w, out)


def problems(r: dict[str, Any]) -> list[str]:
    out: list[str] = []
    _keys(r, ROOT, "AuditEvent", out)
    if r.get("resourceType") != "AuditEvent":
        out.append("resourceType is not AuditEvent")
    if "id" in r and not FHIR_ID.match(str(r["id"])):
        out.append(f"id {r['id']!r} is not a FHIR id")
    for required in ("type", "recorded", "agent", "source"):
        if required not in r:
            out.append(f"AuditEvent.{required} is required")
    if "type" in r:
        _coding(r["type"], "type", out)
    for i, s in enumerate(r.get("subtype", [])):
        _coding(s, f"subtype[{i}]", out)
    if r.get("action", "C") not in {"C", "R", "U", "D", "E"}:
        out.append(f"action {r['action']!r} is not C/R/U/D/E")
    if r.get("outcome", "0") not in {"0", "4", "8", "12"}:
        out.append(f"outcome {r['outcome']!r} is not 0/4/8/12")
    if "recorded" in r and not INSTANT.match(r["recorded"]):
        out.append(f"recorded {r['recorded']!r} is not an instant")
    for i, p in enumerate(r.get("purposeOfEvent", [])):
        _concept(p, f"purposeOfEvent[{i}]", out)
    _extensions(r.get("extension", []), "AuditEvent", out)
    if not r.get("agent"):
        out.append("AuditEvent.agent needs at least one agent")
    for i, a in enumerate(r.get("agent", [])):
        w = f"agent[{i}]"
        _keys(a, AGENT, w, out)
        if not isinstance(a.get("requestor"), bool):
            out.append(f"{w}.requestor is required (a boolean)")
        if "type" in a:
            _concept(a["type"], f"{w}.type", out)
        for j, role in enumerate(a.get("role", [])):
            _concept(role, f"{w}.role[{j}]", out)
        if "who" in a:
            _reference(a["who"], f"{w}.who", out)
        if "network" in a:
            _keys(a["network"], {"address", "type"}, f"{w}.network", out)
            if a["network"].get("type") not in {None, "1", "2", "3", "4", "5"}:
                out.append(f"{w}.network.type is not 1-5")
        for j, p in enumerate(a.get("purposeOfUse", [])):
            _concept(p, f"{w}.purposeOfUse[{j}]", out)
    source = r.get("source", {})
    _keys(source, SOURCE, "source", out)
    if "observer" not in source:
        out.append("source.observer is required")
    else:
        _reference(source["observer"], "source.observer", out)
    for j, t in enumerate(source.get("type", [])):
        _coding(t, f"source.type[{j}]", out)
    for i, e in enumerate(r.get("entity", [])):
        w = f"entity[{i}]"
        _keys(e, ENTITY, w, out)
        if "what" in e:
            _reference(e["what"], f"{w}.what", out)
        for key in ("type", "role", "lifecycle"):
            if key in e:
                _coding(e[key], f"{w}.{key}", out)
        if "name" in e and "query" in e:
            out.append(f"{w} has both name and query (sev-1)")
        if "query" in e:
            try:
                base64.b64decode(e["query"], validate=True)
            except ValueError:
                out.append(f"{w}.query is not base64")
        for j, d in enumerate(e.get("detail", [])):
            _keys(
                d, {"type", "valueString", "valueBase64Binary"}, f"{w}.detail[{j}]", out
            )
            if "type" not in d or not any(k.startswith("value") for k in d):
                out.append(f"{w}.detail[{j}] needs a type and a value")
    return out
