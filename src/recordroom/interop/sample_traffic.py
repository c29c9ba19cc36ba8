"""Sample interface traffic for the demo: HL7 v2 messages through the real HL7
service (accepted ones and one refused) and one FHIR import run.

Synthetic people only. Run once per installation: a second call adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from recordroom.kernel.actor import Actor
from recordroom.mpi.models import Facility

from .bulk.importer import import_fhir
from .hl7v2.services import handle
from .models import ImportRun, InterfaceMessage

SOURCE = "demo-feed"
SENDER = "REGADT"


@dataclass(frozen=True)
class Traffic:
    accepted: int
    refused: int
    imported: int  # FHIR resources created by the import run
    already: bool = False


def send_sample_traffic(*, actor: Actor, facility: Facility, folder: Path) -> Traffic:
    """Send a small day of interface traffic to `facility`, as its feeds would.

    Four ADT messages (a registration, an update, an admission, a discharge) go
    through the HL7 service as the MLLP listener hands them over, each stored and
    acknowledged; one from a sending facility we do not have is refused (AR). Then
    a FHIR bundle (one patient, one visit) written to `folder` is imported as a run
    of source "demo-feed". Nothing is sent twice.
    """
    if InterfaceMessage.objects.filter(sending_app=SENDER).exists():
        return Traffic(0, 0, 0, already=True)
    accepted = refused = 0
    for raw in _adt_messages(facility.code):
        ack = handle(raw)
        if ack.code == "AA":
            accepted += 1
        else:
            refused += 1
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / "demo-feed-bundle.json"
    bundle.write_text(json.dumps(_bundle(facility)))
    _, summary = import_fhir(
        actor=actor, paths=[bundle], source=SOURCE, facility=facility
    )
    return Traffic(accepted, refused, summary.totals()["created"])


def _adt_messages(code: str) -> list[bytes]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)

    def msg(n: int, event: str, facility: str, tail: list[str]) -> bytes:
        ts = f"{start + timedelta(minutes=37 * n):%Y%m%d%H%M%S}"
        segs = [
            f"MSH|^~\\&|{SENDER}|{facility}|RECORDROOM|{code}|{ts}||"
            f"ADT^{event}^ADT_A01|DEMO{n:05d}|P|2.5.1|||AL|NE||UNICODE UTF-8",
            f"EVN|{event}|{ts}",
            f"PID|1||HL7000101^^^{facility}^MR||Quintero^Marisol^E^^^^L||19780214|F|||"
            f"{address}||^PRN^PH^^^312^5550148",
            *[s.replace("{ts}", ts) for s in tail],
        ]
        return ("\r".join(segs) + "\r").encode()

    address = "418 Juniper Ct^^Evanston^IL^60201^USA^H"
    clinic = _pv1("O", "CLINIC3^^", "V-HL7-1", "{ts}")
    first = msg(1, "A04", code, [clinic])
    address = "77 Lakeview Ave^^Evanston^IL^60202^USA^H"  # she moved: an update
    update = msg(2, "A08", code, [])
    admit = msg(3, "A01", code, [_pv1("I", "4E^12^A", "V-HL7-2", "{ts}")])
    discharge = msg(4, "A03", code, [_pv1("I", "4E^12^A", "V-HL7-2", "", f36="01",
                                          f45="{ts}")])  # fmt: skip
    stranger = msg(5, "A04", "ELSEWHERE", [clinic])  # not one of our facilities
    return [first, update, admit, discharge, stranger]


def _pv1(cls: str, location: str, visit: str, admit: str, **extra: str) -> str:
    f = ["PV1", "1", cls] + [""] * 43
    f[3], f[19], f[44] = location, visit, admit
    for k, v in extra.items():
        f[int(k[1:])] = v
    return "|".join(f)


def _bundle(facility: Facility) -> dict[str, object]:
    patient = {
        "resourceType": "Patient",
        "id": "demo-feed-patient-1",
        "identifier": [{
            "type": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                "code": "MR"}]},
            "system": facility.mrn_system,
            "value": "FHIR000201",
        }],
        "name": [{"use": "official", "family": "Achterberg", "given": ["Lotte"]}],
        "gender": "female",
        "birthDate": "1991-06-03",
    }  # fmt: skip
    encounter = {
        "resourceType": "Encounter",
        "id": "demo-feed-encounter-1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                  "code": "AMB"},
        "subject": {"reference": "Patient/demo-feed-patient-1"},
        "period": {"start": "2026-03-02T09:15:00Z", "end": "2026-03-02T09:45:00Z"},
    }  # fmt: skip
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": r}
            for r in (patient, encounter)
        ],
    }


def recent_import_runs(limit: int = 10) -> list[ImportRun]:
    """The latest import runs, newest first (no PHI: source, counts, status)."""
    return list(ImportRun.objects.order_by("-started_at")[:limit])
