"""Every shared ADT and MDM sample sent to the running listener with python-hl7's MLLP
client, in name order on one connection, gets the ACK its content calls for."""

from __future__ import annotations

from hl7.client import MLLPClient

from .messages import adt
from .test_mllp import BIN, SAMPLES, _msa, _run, _sample, listener  # noqa: F401

SUPPORTED = {"A01", "A02", "A04", "A05", "A08", "A11", "A28", "A31"}
# What a sample's content calls for, when it is not AA (or AR for an unsupported type)
EXPECTED = {
    # PV1-36 'Admitted as Inpatient' is not a discharge disposition code
    "ADT-A03-01.hl7": ("AE", "PV1^1^36"),
    "ADT-A03-02.hl7": ("AE", "PV1^1^36"),
    # sent after the A11 samples cancelled that visit: no discharge to cancel
    "ADT-A13-01.hl7": ("AE", "MSH^1^9"),
    "ADT-A13-02.hl7": ("AE", "MSH^1^9"),
    # A08 applies PV1-36 too: 'Admitted as Inpatient' again
    "ADT-A08-01.hl7": ("AE", "PV1^1^36"),
    "ADT-A08-02.hl7": ("AE", "PV1^1^36"),
    # PID-3's SS repetition (123456789) and PID-19 (444333333) are two SSNs
    "ADT01-28.hl7": ("AE", "PID^1^3"),
    # the surviving patient (PID-3 12345) was never registered by an earlier sample
    "ADT-A40-01.hl7": ("AE", "PID^1^3"),
    "ADT-A40-02.hl7": ("AE", "PID^1^3"),
    # their OBX ED (application/pdf, Base64) carries no data
    "MDM-T02-01.hl7": ("AE", "OBX^1^5"),
    "MDM-T06-01.hl7": ("AE", "OBX^1^5"),
    "MDM-T10-01.hl7": ("AE", "OBX^1^5"),
}


def _expected(name: str) -> tuple[str, str]:
    if name in EXPECTED:
        return EXPECTED[name]
    if name.startswith("MDM") or name.startswith("ADT0"):  # ADT0*: ADT^A01/A04
        return ("AA", "")
    event = name.split("-")[1]
    return (
        ("AA", "") if event in SUPPORTED else ("AR", "MSH^1^9^1^2")
    )  # ERL of MSH-9.2, the event


def _err_location(ack: bytes) -> str:
    text = ack.decode().strip("\x0b\x1c\r\n")
    err = next((s for s in text.split("\r") if s.startswith("ERR")), "")
    return err.split("|")[2] if err else ""


def test_every_adt_and_mdm_sample_gets_the_right_ack(listener):  # noqa: F811
    data, port = listener
    names = sorted(p.name for p in SAMPLES.glob("ADT*.hl7"))
    names += sorted(p.name for p in SAMPLES.glob("MDM*.hl7"))
    codes = sorted(
        {
            _sample(n).decode().lstrip("\ufeff").split("|")[3].split("^")[0]
            for n in names
        }
    )
    make = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Facility as F;"
        f"[F.objects.get_or_create(code=c, defaults=dict(name=c, "
        f"mrn_system='urn:test:'+c)) for c in {codes!r}]"
    )
    made = _run([BIN / "python", "-c", make], data)
    assert made.returncode == 0, made.stderr
    got = {}
    with MLLPClient("127.0.0.1", port) as client:
        # the MDM samples' patients, registered first as an ADT feed would
        for mrn, facility in (("987654321", "XYZHOSPITAL"), ("3196695816", "SFAC")):
            reg = _msa(client.send_message(adt("A04", f"REG{mrn}", mrn=mrn,
                                               facility=facility)))  # fmt: skip
            assert reg[1] == "AA", reg
        for i, name in enumerate(names):
            ack = client.send_message(_sample(name, f"SAMPLE{i:03d}"))
            msa = _msa(ack)
            assert msa[2] == f"SAMPLE{i:03d}", (name, msa)
            got[name] = (msa[1], _err_location(ack.encode() if isinstance(ack, str)
                                               else ack))  # fmt: skip
    assert got == {name: _expected(name) for name in names}
