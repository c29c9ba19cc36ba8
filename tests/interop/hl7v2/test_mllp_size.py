"""Size limits at the running listener: a 50 MB message is answered AR naming the limit
(RECORDROOM_HL7_MAX_MESSAGE_MB) and nothing of it is applied, while a message past
asyncio's 64 KiB default buffer is accepted, on the same connection."""

from __future__ import annotations

import pytest
from hl7.client import MLLPClient

from recordroom.interop.hl7v2.services import refuse_oversized, reprocess
from recordroom.kernel.errors import Conflict

from .test_mllp import BIN, _msa, _run, listener  # noqa: F401  (listener: a fixture)

FACILITY = "GHHSFacility"  # one the listener fixture creates


def _a04(control: str, mrn: str, filler: int) -> bytes:
    """An ADT A04 registering `mrn`, padded with an NTE of `filler` characters."""
    segs = [
        f"MSH|^~\\&|REGAPP|{FACILITY}|RR|RR|20250102083000||ADT^A04^ADT_A01|{control}"
        "|P|2.5.1",
        "EVN|A04|20250102083000",
        f"PID|1||{mrn}^^^{FACILITY}^MR||BIG^BERTHA||19700101|F",
        "NTE|1||" + "X" * filler,
    ]
    return ("\r".join(segs) + "\r").encode()


def test_a_50_mb_message_is_refused_naming_the_limit_and_nothing_is_applied(listener):  # noqa: F811
    data, port = listener
    huge = _a04("BIG50", "M-BIG", 50 * 1024 * 1024)
    with MLLPClient("127.0.0.1", port) as client:
        refused = _msa(client.send_message(huge))
        assert refused[1:3] == ["AR", "BIG50"], refused[:3]
        assert refused[3] == (
            "message is 50.0 MB; the largest accepted is 20 MB "
            "(RECORDROOM_HL7_MAX_MESSAGE_MB); nothing was applied"
        )
        # the same connection goes on, and 200 KB (past asyncio's 64 KiB) is fine
        fine = _msa(client.send_message(_a04("OK200", "M-OK", 200 * 1024)))
        assert fine[1:3] == ["AA", "OK200"], fine
    check = (
        "import django; django.setup();"
        "from recordroom.interop.models import InterfaceMessage as M;"
        "from recordroom.mpi.models import PatientIdentifier as I;"
        "print(sorted(I.objects.filter(kind='MR').values_list('value', flat=True)));"
        "r = M.objects.get(control_id='BIG50');"
        "print(r.status, r.ack_code, r.raw_size, r.sending_facility, r.patient_id)"
    )
    out = _run([BIN / "python", "-c", check], data)
    mrns, row = out.stdout.strip().split("\n")
    assert mrns == "['M-OK']", out.stdout + out.stderr
    assert row == f"rejected AR {len(huge)} {FACILITY} None"


def test_an_oversized_message_is_kept_in_part_and_never_reprocessed(facility):
    head = _a04("C9", "M-9", 1000)[:300]
    ack = refuse_oversized(head, 30 * 1048576, 20 * 1048576)
    assert (ack.code, ack.control_id, ack.location) == ("AR", "C9", "MSH")
    assert ack.text.startswith("message is 30.0 MB; the largest accepted is 20 MB")
    assert ack.message.message_type == "ADT^A04"
    with pytest.raises(Conflict, match="only its beginning was kept"):
        reprocess(ack.message.pk)
    junk = refuse_oversized(b"\x00" * 100, 25 * 1048576, 20 * 1048576)
    assert (junk.code, junk.control_id) == ("AR", "")
