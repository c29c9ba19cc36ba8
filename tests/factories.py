"""Model factories for tests: real rows through the real services."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime, timedelta

from reportlab.pdfgen import canvas

from recordroom.accounts import services as accounts
from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.npi import npi_check_digit
from recordroom.mpi.models import Facility
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, register_patient
from recordroom.records import services as records
from recordroom.records.models import DocumentType

_seq = itertools.count(1)
SYSTEM = Actor(channel="test")


def actor(user, channel: str = "test") -> Actor:
    return Actor(user=user, channel=channel, client_address="127.0.0.1", request_id="t")


def facility(code: str) -> Facility:
    return Facility.objects.create(
        code=code,
        name=f"{code.title()} General Hospital",
        mrn_system=f"urn:recordroom:facility:{code.lower()}:mrn",
    )


def user(
    username: str,
    role: str,
    *,
    facilities=(),
    password="correct horse battery 9",
    all_facilities=False,
):
    u = accounts.create_user(
        actor=SYSTEM,
        username=username,
        role=role,
        password=password,
        facility_codes=[f.code for f in facilities],
        all_facilities=all_facilities,
    )
    return u


def grant_labels(user, *codes: str, break_glass: bool = False):
    """Grant one user sensitivity labels (a per-user LabelGrant, as the admin does)."""
    from recordroom.accounts.models import LabelGrant, LabelPolicy

    for code in codes:
        policy, _ = LabelPolicy.objects.get_or_create(label=code)
        LabelGrant.objects.create(policy=policy, user=user, break_glass=break_glass)
    user.__dict__.pop("_label_grants", None)
    return user


def patient(
    *,
    facility,
    family="Smith",
    given="Anna",
    mrn=None,
    birth_date=date(1980, 4, 2),
    sex="female",
    ssn=None,
    extra_names=(),
):
    mrn = mrn or f"M{next(_seq):07d}"
    idents = [IdentifierIn(kind="MR", value=mrn, facility=facility)]
    if ssn:
        idents.append(IdentifierIn(kind="SS", value=ssn))
    return register_patient(
        actor=SYSTEM,
        data=PatientIn(
            names=[NameIn(family=family, given=given), *extra_names],
            birth_date=birth_date,
            sex=sex,
            identifiers=idents,
            addresses=[
                {
                    "line1": "12 Elm St",
                    "city": "Springfield",
                    "state": "IL",
                    "postal_code": "62701",
                }
            ],
            telecoms=[{"system": "phone", "use": "home", "value": "217-555-0100"}],
        ),
    )


def provider(family="Osler", given="William"):
    first_nine = f"1{next(_seq):08d}"
    return records.create_provider(
        npi=first_nine + npi_check_digit(first_nine),
        family=family,
        given=given,
        credentials="MD",
    )


def pdf_bytes(text: str = "Discharge summary") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def encounter(*, patient, facility, account=None, cls="IMP", days_ago=10):
    admit = datetime.now(UTC) - timedelta(days=days_ago)
    return records.record_encounter(
        actor=SYSTEM,
        patient=patient,
        facility=facility,
        account_number=account or f"A{next(_seq):08d}",
        encounter_class=cls,
        admit_at=admit,
        discharge_at=admit + timedelta(days=3),
    )


def document(
    *,
    patient,
    facility,
    code="18842-5",
    text="Discharge summary",
    encounter=None,
    sensitivity=None,
):
    return records.file_document(
        actor=SYSTEM,
        patient=patient,
        doc_type=DocumentType.objects.get(code=code),
        data=pdf_bytes(text),
        filename="note.pdf",
        facility=facility,
        encounter=encounter,
        sensitivity=sensitivity,
    )


def patient_with_history(*, facility):
    """A patient with history: a previous name, an SSN, an old address, a VIP flag."""
    return register_patient(
        actor=SYSTEM,
        data=PatientIn(
            names=[
                NameIn(family="Okafor", given="Adaeze", middle="N"),
                NameIn(family="Eze", given="Adaeze", use="previous",
                       period_start=date(1990, 1, 1), period_end=date(2015, 6, 20)),
            ],
            birth_date=date(1990, 1, 1),
            sex="female",
            identifiers=[
                IdentifierIn(kind="MR", value="N200777", facility=facility),
                IdentifierIn(kind="SS", value="123-45-6789"),
            ],
            addresses=[
                {"line1": "40 Harbor Rd", "city": "Salem", "state": "MA",
                 "postal_code": "01970"},
                {"line1": "9 Old Mill Ln", "city": "Lowell", "state": "MA",
                 "postal_code": "01850", "period_start": date(2010, 1, 1),
                 "period_end": date(2019, 3, 31)},
            ],
            telecoms=[{"system": "phone", "use": "mobile", "value": "978-555-0142"}],
            is_vip=True,
        ),
    )  # fmt: skip


def facility_today(zone: str = "America/New_York") -> date:
    """Today on the calendar of the test facilities (their default zone): a test that
    used the machine's date would fail each evening in New York (UTC is tomorrow)."""
    return clock.today(zone)
