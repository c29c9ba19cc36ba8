"""Over MLLP to the running listener (python-hl7's client, real bytes): an 8859/1
message with escape sequences, an undeclared Windows-1252 one, a reused control id
from a second application, and an unprocessed type, each with the ACK it calls for."""

from __future__ import annotations

from hl7.client import MLLPClient

from .test_mllp import BIN, _msa, _run, _sample, listener  # noqa: F401


def _with(raw: bytes, *, charset: str = "", name: str = "", app: str = "") -> str:
    """The sample as text with MSH-18, MSH-3 or PID-5 replaced (and the A08
    sample's PV1-36, 'Admitted as Inpatient', which is no disposition, left out)."""
    raw = raw.replace(b"|Admitted as Inpatient^Sample^ACR|", b"||")
    segments = raw.decode().split("\r")
    msh = segments[0].split("|")
    if charset:
        msh[17] = charset
    if app:
        msh[2] = app
    segments[0] = "|".join(msh)
    for i, seg in enumerate(segments):
        if seg.startswith("PID|") and name:
            fields = seg.split("|")
            fields[5] = name
            segments[i] = "|".join(fields)
    return "\r".join(segments)


def test_charsets_escapes_reused_ids_and_unprocessed_types_over_mllp(listener):  # noqa: F811
    data, port = listener
    latin = _with(_sample("ADT-A04-01.hl7", "ENC1"), charset="8859/1",
                  name=r"MÜLLER\T\PEÑA^ADAM").encode("iso8859-1")  # fmt: skip
    assert b"M\xdcLLER\\T\\PE\xd1A" in latin
    cp1252 = _with(_sample("ADT-A08-01.hl7", "ENC2"), name="O’NEIL^KATE")
    second_app = _with(_sample("ADT-A08-01.hl7", "ENC1"), app="EDAPP", name="SMITH^ANN")
    oru = _sample("ADT-A04-01.hl7", "ENC3").replace(b"ADT^A04^ADT_A04", b"SIU^S12")
    with MLLPClient("127.0.0.1", port) as client:
        first = client.send_message(latin)
        assert _msa(first)[1:3] == ["AA", "ENC1"], first
        assert b"|8859/1" in first  # the ACK names the set it is written in
        second = _msa(client.send_message(cp1252.encode("cp1252")))
        assert second[1:3] == ["AA", "ENC2"], second
        third = _msa(client.send_message(second_app.encode()))
        assert third[1:3] == ["AA", "ENC1"] and "duplicate" not in third[3], third
        fourth = _msa(client.send_message(oru))
        assert fourth[1:3] == ["AR", "ENC3"], fourth
    check = (
        "import django; django.setup();"
        "from recordroom.interop.models import InterfaceMessage as M;"
        "from recordroom.mpi.models import PatientName as N;"
        "print(sorted(N.objects.values_list('family', flat=True)));"
        "print([(m.control_id, m.sending_app, m.status, 'Windows-1252' in m.warnings) "
        "for m in M.objects.order_by('received_at')])"
    )
    out = _run([BIN / "python", "-c", check], data)
    names, rows = out.stdout.strip().splitlines()[-2:]
    assert "'MÜLLER&PEÑA'" in names and "'O’NEIL'" in names, out.stdout + out.stderr
    assert "'SMITH'" in names  # the second application's message was applied
    assert rows == (
        "[('ENC1', 'ADTApp', 'processed', False), ('ENC2', 'ADTApp', 'processed', "
        "True), ('ENC1', 'EDAPP', 'processed', False), ('ENC3', 'ADTApp', "
        "'rejected', False)]"
    ), out.stdout
