"""ORU^R01 over MLLP: the running listener, fed with python-hl7's MLLP client, files
a Beaker style panel and CBC, answers a resend without filing it again, files the
correction as a new version and refuses a preliminary result after the final one."""

from __future__ import annotations

from hl7.client import MLLPClient

from .messages import adt, pv1
from .test_mllp import BIN, _msa, _run, listener  # noqa: F401
from .test_oru import CBC, bmp, oru


def test_results_over_mllp(listener):  # noqa: F811
    data, port = listener
    make = (
        "import django; django.setup();"
        "from recordroom.mpi.models import Facility as F;"
        "F.objects.get_or_create(code='NORTH', defaults=dict(name='North', "
        "mrn_system='urn:test:north'))"
    )
    made = _run([BIN / "python", "-c", make], data)
    assert made.returncode == 0, made.stderr
    with MLLPClient("127.0.0.1", port) as client:
        assert _msa(client.send_message(adt("A01", "ADT1", visit=pv1())))[1] == "AA"
        first = _msa(client.send_message(oru("R1", bmp(), CBC)))
        assert first[1:3] == ["AA", "R1"], first
        again = _msa(client.send_message(oru("R2", bmp(), CBC)))
        assert again[1] == "AA" and "not filed again" in again[3], again
        fixed = _msa(client.send_message(oru("R3", bmp(status="C", obx="C",
                                                        glucose="128"))))  # fmt: skip
        assert fixed[1:3] == ["AA", "R3"], fixed
        late = _msa(client.send_message(oru("R4", bmp(status="P", obx="P"))))
        assert late[1] == "AE" and "is corrected; a preliminary version" in late[3]
    check = (
        "import django; django.setup();"
        "from recordroom.records.models import ResultReport as R, ResultVersion as V;"
        "print(R.objects.count(), V.objects.count(),"
        " sorted(R.objects.values_list('status', 'version')))"
    )
    out = _run([BIN / "python", "-c", check], data)
    assert out.stdout.strip() == "2 3 [('corrected', 2), ('final', 1)]", (
        out.stdout + out.stderr
    )
