"""The document types shipped with Recordroom (seeded by a migration, editable after)."""

from __future__ import annotations

LOINC = "http://loinc.org"
LOCAL = "urn:recordroom:document-type"

# (system, code, display, category, default sensitivity, requires signature)
SEED: tuple[tuple[str, str, str, str, tuple[str, ...], bool], ...] = (
    (LOINC, "34117-2", "History and physical", "clinical-note", (), True),
    (LOINC, "18842-5", "Discharge summary", "clinical-note", (), True),
    (LOINC, "11504-8", "Operative report", "clinical-note", (), True),
    (LOINC, "28570-0", "Procedure note", "clinical-note", (), True),
    (LOINC, "11506-3", "Progress note", "clinical-note", (), True),
    (LOINC, "11488-4", "Consultation note", "clinical-note", (), True),
    (LOINC, "34111-5", "Emergency department note", "clinical-note", (), True),
    (LOINC, "34746-8", "Nursing note", "clinical-note", (), False),
    (LOINC, "18761-7", "Transfer summary", "clinical-note", (), True),
    (LOINC, "57133-1", "Referral note", "clinical-note", (), False),
    (LOINC, "18748-4", "Radiology report", "imaging", (), True),
    (LOINC, "11502-2", "Laboratory report", "laboratory", (), False),
    (LOINC, "11526-1", "Pathology report", "laboratory", (), True),
    (LOINC, "59284-0", "Consent", "administrative", (), False),
    (
        LOCAL,
        "AUTH",
        "Authorization for release of information",
        "administrative",
        (),
        False,
    ),
    (LOCAL, "CORR", "Correspondence", "administrative", (), False),
    (LOCAL, "PSYTHPN", "Psychotherapy note", "clinical-note", ("PSYTHPN", "PSY"), True),
    (
        LOCAL,
        "SUDTX",
        "Substance use disorder treatment note",
        "clinical-note",
        ("ETH", "SUD"),
        True,
    ),
)
