"""Synthetic HL7 v2 messages for the tests: MSH/EVN/PID/PV1 built field by field."""

from __future__ import annotations


def pv1(
    cls: str = "I",
    visit: str = "V5001",
    location: str = "4E^401^A",
    attending: str = "",
    admitting: str = "",
    disposition: str = "",
    admit: str = "20250102083000",
    discharge: str = "",
) -> str:
    fields = ["PV1", "1", cls] + [""] * 43
    fields[3], fields[7], fields[17], fields[19] = location, attending, admitting, visit
    fields[36], fields[44], fields[45] = disposition, admit, discharge
    return "|".join(fields)


def adt(
    event: str,
    control: str,
    *,
    mrn: str = "M1001",
    name: str = "DOE^JANE^Q",
    dob: str = "19800131",
    sex: str = "F",
    facility: str = "NORTH",
    address: str = "1 Main St^^Springfield^IL^62701^USA",
    phone: str = "^PRN^PH^^^217^5550100",
    ssn: str = "123-45-6789",
    visit: str | None = None,
) -> bytes:
    """An ADT message; `visit` is the PV1 segment (None: no PV1)."""
    segs = [
        f"MSH|^~\\&|REGAPP|{facility}|RR|RR|20250102083000||ADT^{event}^ADT_A01|"
        f"{control}|P|2.5.1",
        f"EVN|{event}|20250102083000",
        f"PID|1||{mrn}^^^{facility}^MR||{name}||{dob}|{sex}|||{address}||{phone}"
        f"||||||{ssn}",
    ]
    if visit is not None:
        segs.append(visit)
    return ("\r".join(segs) + "\r").encode()


def err(ack) -> list[str]:
    """The ERR segment of an ACK, as fields."""
    text = ack.encode().decode()
    return next(s for s in text.split("\r") if s.startswith("ERR")).split("|")


def mdm(
    event: str,
    control: str,
    number: str = "DOC-1",
    *,
    parent: str = "",
    status: str = "AU",
    doc_type: str = "DS",
    author: str = "",
    visit: str = "V5001",
    lines: tuple[str, ...] = ("Discharge summary.", "Home on day 3."),
    obx: tuple[str, ...] | None = None,
    mrn: str = "M1001",
    facility: str = "NORTH",
    evn_reason: str = "",
) -> bytes:
    """An MDM message: TXA with the given number/status, OBX text lines (or `obx`)."""
    txa = ["TXA", "1", doc_type, "TX", "20250104101500"] + [""] * 19
    txa[9], txa[12], txa[13], txa[17] = author, number, parent, status
    if obx is None:
        obx = tuple(f"OBX|{i}|TX|NOTE^Note||{line}||||||F" for i, line in
                    enumerate(lines, 1))  # fmt: skip
    segs = [
        f"MSH|^~\\&|DICTAPP|{facility}|RR|RR|20250104101500||MDM^{event}^MDM_T02|"
        f"{control}|P|2.5.1",
        f"EVN|{event}|20250104101500||{evn_reason}",
        f"PID|1||{mrn}^^^{facility}^MR||DOE^JANE||19800131|F",
        "PV1|1|I|4E^401^A" + "|" * 16 + visit,
        "|".join(txa),
        *obx,
    ]
    return ("\r".join(segs) + "\r").encode()
