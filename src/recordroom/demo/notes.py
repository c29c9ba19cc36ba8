"""Plausible clinical text for each document type, from the encounter's problem.

`body(job, rng)` returns sections (heading, paragraphs); the renderer lays them out.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .problems import BY_KEY, Problem

if TYPE_CHECKING:
    from .render import DocJob

Sections = list[tuple[str, list[str]]]

_ROS_NEG = (
    "Denies headache, vision change, chest pain, palpitations, abdominal pain, "
    "dysuria or rash. All other systems reviewed and negative."
)
_EXAM = (
    "General: alert, in no acute distress. HEENT: mucous membranes moist. Neck: supple. "
    "Heart: regular rate and rhythm, no murmur. Lungs: {lungs}. Abdomen: {abdomen}. "
    "Extremities: {extremities}. Neuro: {neuro}."
)
_LAB_VALUES = {
    "CBC": ("WBC", 4.0, 14.0, "K/uL"), "BMP": ("Creatinine", 0.6, 1.9, "mg/dL"),
    "CMP": ("ALT", 10, 80, "U/L"), "Troponin I": ("Troponin I", 0.0, 0.9, "ng/mL"),
    "BNP": ("BNP", 40, 1800, "pg/mL"), "Lipase": ("Lipase", 20, 600, "U/L"),
    "HbA1c": ("HbA1c", 5.2, 11.5, "%"), "Lactate": ("Lactate", 0.8, 4.5, "mmol/L"),
    "PT/INR": ("INR", 0.9, 2.8, ""), "TSH": ("TSH", 0.4, 6.0, "mIU/L"),
    "Lipid panel": ("LDL cholesterol", 60, 190, "mg/dL"),
    "HIV-1 RNA viral load": ("HIV-1 RNA", 0, 200, "copies/mL"),
    "CD4 count": ("CD4", 250, 1100, "cells/uL"), "GGT": ("GGT", 10, 180, "U/L"),
}  # fmt: skip


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _problem(job: DocJob) -> Problem:
    return BY_KEY[job.problem]


def _vitals(rng: random.Random, job: DocJob) -> str:
    child = job.age < 12
    return (
        f"T {rng.uniform(36.4, 38.9):.1f} C, HR {rng.randrange(70 if not child else 90, 120 if not child else 150)}, "  # noqa: E501
        f"BP {rng.randrange(100, 165)}/{rng.randrange(58, 98)}, RR {rng.randrange(12, 26)}, "
        f"SpO2 {rng.randrange(90, 100)}% on room air"
    )


def _exam(rng: random.Random, p: Problem) -> str:
    lungs = "crackles at the right base" if p.key == "pneumonia" else rng.choice(
        ("clear to auscultation bilaterally", "scattered expiratory wheeze")
        if p.key in ("copd", "asthma") else ("clear to auscultation bilaterally",)
    )  # fmt: skip
    abdomen = "tender in the right lower quadrant with guarding" if p.key == "appendicitis" \
        else "soft, non-tender, non-distended"  # fmt: skip
    extremities = "erythema and warmth of the left shin" if p.key == "cellulitis" \
        else "no edema" if p.key != "chf" else "2+ pitting edema to the knees"  # fmt: skip
    neuro = "right face and arm weakness, expressive aphasia" if p.key == "stroke" \
        else "grossly intact"  # fmt: skip
    return _EXAM.format(
        lungs=lungs, abdomen=abdomen, extremities=extremities, neuro=neuro
    )


def _labs(rng: random.Random, p: Problem) -> list[str]:
    out = []
    for panel in p.labs:
        name, low, high, unit = _LAB_VALUES.get(panel, (panel, 0, 0, ""))
        if high:
            value = rng.uniform(low, high)
            text = f"{value:.1f}" if high < 20 else f"{value:.0f}"
            out.append(f"{panel}: {name} {text} {unit}".rstrip())
        else:
            out.append(
                f"{panel}: {rng.choice(('negative', 'within normal limits', 'pending'))}"
            )
    return out or ["No laboratory studies this visit."]


def _plan(rng: random.Random, p: Problem) -> list[str]:
    lines = [f"{p.diagnosis} ({p.icd10})."]
    lines += [f"Continue {m}." for m in p.meds[:3]]
    lines.append(rng.choice((
        "Return precautions reviewed; patient and family verbalized understanding.",
        "Follow up with primary care in 1-2 weeks.",
        "Will reassess in the morning and adjust the plan accordingly.",
    )))  # fmt: skip
    return lines


def history_and_physical(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [
        ("Chief complaint", [p.complaint.capitalize() + "."]),
        ("History of present illness", [
            f"{job.age}-year-old {job.sex_word} presenting with {p.history}. "
            f"Symptoms began {_days(rng.randrange(1, 6))} before arrival.",
        ]),
        ("Review of systems", [_ROS_NEG]),
        ("Physical examination", [f"Vitals: {_vitals(rng, job)}.", _exam(rng, p)]),
        ("Data", _labs(rng, p) + ([f"Imaging: {p.imaging} ordered."] if p.imaging else [])),
        ("Assessment and plan", _plan(rng, p)),
    ]  # fmt: skip


def progress(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    subjective = rng.choice(("Feels better today.", "Slept poorly; pain controlled.",
                             "No new complaints.", "Tolerating diet."))  # fmt: skip
    return [
        ("Subjective", [f"{subjective} Follow-up of {p.complaint}."]),
        ("Objective", [f"Vitals: {_vitals(rng, job)}.", _exam(rng, p)]),
        (
            "Assessment",
            [f"{p.diagnosis} ({p.icd10}), {rng.choice(('improving', 'stable'))}."],
        ),
        ("Plan", _plan(rng, p)[1:]),
    ]


def discharge(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    course = f"Admitted for {p.diagnosis.lower()}. Treated with " + (
        ", ".join(m.split(" ")[0] for m in p.meds) or "supportive care"
    ) + (f"; underwent {p.procedure.lower()}" if p.procedure else "") + \
        f". Improved steadily over {rng.randrange(2, 8)} days."  # fmt: skip
    return [
        ("Admission date", [job.admit]), ("Discharge date", [job.discharge or "(pending)"]),
        ("Principal diagnosis", [f"{p.diagnosis} ({p.icd10})"]),
        ("Hospital course", [course]),
        ("Discharge medications", [m for m in p.meds] or ["No changes."]),
        ("Disposition and follow-up", [
            f"Discharged to {job.disposition or 'home'} in stable condition. "
            "Follow up with primary care within 7 days.",
        ]),
    ]  # fmt: skip


def operative(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [
        ("Preoperative diagnosis", [f"{p.diagnosis} ({p.icd10})"]),
        ("Procedure", [p.procedure or "Procedure"]),
        ("Anesthesia", [rng.choice(("General endotracheal", "Spinal", "Monitored sedation"))]),
        ("Findings", ["Findings consistent with the preoperative diagnosis."]),
        ("Description", [
            "After informed consent and a time-out confirming patient, site and procedure, "
            f"the {p.procedure.lower() or 'procedure'} was performed without complication. "
            f"Estimated blood loss {rng.randrange(5, 250)} mL. Specimens to pathology.",
        ]),
        ("Condition", ["Stable to the recovery unit."]),
    ]  # fmt: skip


def consultation(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [
        ("Reason for consultation", [f"Evaluation of {p.complaint}; requested by the "
                                     "attending physician."]),
        ("History", [f"{job.age}-year-old {job.sex_word} with {p.history}."]),
        ("Examination", [_exam(rng, p)]),
        ("Impression", [f"{p.diagnosis} ({p.icd10})."]),
        ("Recommendations", _plan(rng, p)[1:]),
    ]  # fmt: skip


def emergency(job: DocJob, rng: random.Random) -> Sections:
    sections = history_and_physical(job, rng)
    sections.append(("ED course and disposition", [
        f"Improved in the department. Disposition: {job.disposition or 'home'}.",
    ]))  # fmt: skip
    return sections


def radiology(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    study = p.imaging.split(";")[0] or "Chest X-ray, 2 views"
    finding = rng.choice(
        ("No acute abnormality.", f"Findings compatible with {p.diagnosis.lower()}.")
    )
    return [
        ("Examination", [study]), ("Indication", [p.complaint.capitalize()]),
        ("Comparison", [rng.choice(("None available.", "Prior study from last year."))]),
        ("Findings", [finding]), ("Impression", [finding]),
    ]  # fmt: skip


def laboratory(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    sections = [
        ("Results", _labs(rng, p)),
        ("Specimen", [f"Collected {job.service}; received in the laboratory."]),
    ]
    if "HIV" in job.labels:
        sections.insert(0, ("Confidential", [
            "HIV-related result: redisclosure is restricted by state law.",
        ]))  # fmt: skip
    return sections


def pathology(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [
        ("Specimen", [f"From {p.procedure.lower() or 'biopsy'}."]),
        (
            "Gross description",
            [f"Received in formalin, {rng.uniform(1, 9):.1f} cm in size."],
        ),
        (
            "Diagnosis",
            [f"Changes consistent with {p.diagnosis.lower()}; no malignancy."],
        ),
    ]


def nursing(job: DocJob, rng: random.Random) -> Sections:
    return [("Nursing assessment", [
        f"Vitals {_vitals(rng, job)}. Pain {rng.randrange(0, 7)}/10. Fall risk "
        f"{rng.choice(('low', 'moderate', 'high'))}. Ambulating with "
        f"{rng.choice(('no assistance', 'standby assist', 'walker'))}. Education provided.",
    ])]  # fmt: skip


def transfer(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [
        ("Reason for transfer", [f"Ongoing care after {p.diagnosis.lower()}."]),
        ("Receiving facility", [job.disposition or "skilled nursing facility"]),
        ("Medications", list(p.meds) or ["See medication administration record."]),
        ("Code status", [rng.choice(("Full code", "DNR/DNI"))]),
    ]


def referral(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [("Referral", [
        f"Dear colleague, I am referring this {job.age}-year-old {job.sex_word} for "
        f"evaluation of {p.complaint}: {p.history}. Thank you for seeing them.",
    ])]  # fmt: skip


def psychotherapy(job: DocJob, rng: random.Random) -> Sections:
    return [
        ("Session", [f"{rng.choice((45, 50, 60))}-minute individual psychotherapy session."]),
        ("Process notes", [
            "Explored recent stressors at work and in family relationships; patient "
            f"identified {rng.choice(('avoidance', 'rumination', 'catastrophizing'))} "
            "as a recurring pattern. Practised cognitive restructuring.",
        ]),
        ("Therapist impressions", ["Engaged; insight improving. Continue weekly sessions."]),
    ]  # fmt: skip


def substance_use(job: DocJob, rng: random.Random) -> Sections:
    p = _problem(job)
    return [
        ("42 CFR Part 2 notice", [
            "This record is protected by federal confidentiality rules (42 CFR Part 2). "
            "Further disclosure is prohibited without the patient's written consent.",
        ]),
        ("Treatment note", [f"{p.diagnosis} ({p.icd10}). {p.history.capitalize()}."]),
        ("Medications", list(p.meds)),
        ("Plan", [f"Continue counselling; next visit in {rng.randrange(1, 5)} weeks."]),
    ]  # fmt: skip


def correspondence(job: DocJob, rng: random.Random) -> Sections:
    return [("Letter", [
        "To whom it may concern: this letter confirms that the patient was seen at our "
        f"facility on {job.service[:10]} and may return to "
        f"{rng.choice(('work', 'school'))} without restriction.",
    ])]  # fmt: skip


def consent(job: DocJob, rng: random.Random) -> Sections:
    return [("Consent", [
        "I consent to the procedure described to me, its risks, benefits and alternatives "
        "having been explained. I had the chance to ask questions.",
    ])]  # fmt: skip


def authorization(job: DocJob, rng: random.Random) -> Sections:
    return [("Authorization", [
        "I authorize the release of my health information described below to "
        f"{rng.choice(('my attorney', 'my insurer', 'another provider', 'myself'))} for "
        "the purpose stated. This authorization expires one year from signing.",
    ])]  # fmt: skip


WRITERS = {
    "34117-2": history_and_physical, "18842-5": discharge, "11504-8": operative,
    "28570-0": operative, "11506-3": progress, "11488-4": consultation,
    "34111-5": emergency, "34746-8": nursing, "18761-7": transfer, "57133-1": referral,
    "18748-4": radiology, "11502-2": laboratory, "11526-1": pathology, "59284-0": consent,
    "AUTH": authorization, "CORR": correspondence, "PSYTHPN": psychotherapy,
    "SUDTX": substance_use,
}  # fmt: skip


def body(job: DocJob, rng: random.Random) -> Sections:
    return WRITERS.get(job.code, progress)(job, rng)
