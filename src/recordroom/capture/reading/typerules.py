"""What marks each document type on paper: title phrases (looked for in the first lines
of the first page) and section headers. Data, read by reading.classify: a site adds
its own forms' titles here; a type without an entry is left to the trained model."""

from __future__ import annotations

RULES: dict[str, dict[str, list[str]]] = {
    "18842-5": {
        "titles": ["discharge summary", "discharge summ", "discharge note"],
        "sections": ["hospital course", "discharge medications", "discharge diagnosis",
                     "discharge date", "disposition and follow-up", "principal diagnosis"],
    },
    "34117-2": {
        "titles": ["history and physical", "history & physical", "h&p", "h & p",
                   "admission history"],
        "sections": ["chief complaint", "history of present illness", "review of systems",
                     "physical examination", "past medical history", "assessment and plan"],
    },
    "11504-8": {
        "titles": ["operative report", "operative note", "operation report", "op note"],
        "sections": ["preoperative diagnosis", "postoperative diagnosis", "anesthesia",
                     "estimated blood loss", "procedure performed", "description"],
    },
    "28570-0": {
        "titles": ["procedure note", "procedure report"],
        "sections": ["indication", "complications", "procedure"],
    },
    "11506-3": {
        "titles": ["progress note", "daily progress", "soap note", "clinic note",
                   "office visit", "office note", "follow-up visit"],
        "sections": ["subjective", "objective", "assessment", "plan"],
    },
    "11488-4": {
        "titles": ["consultation note", "consultation report", "consult note", "consultation"],
        "sections": ["reason for consultation", "recommendations", "impression"],
    },
    "34111-5": {
        "titles": ["emergency department note", "emergency department", "ed note",
                   "emergency room report", "er report"],
        "sections": ["ed course and disposition", "ed course", "triage"],
    },
    "34746-8": {
        "titles": ["nursing note", "nursing assessment", "nurse's note", "nursing progress"],
        "sections": ["nursing interventions", "intake and output"],
    },
    "18761-7": {
        "titles": ["transfer summary", "transfer note", "interfacility transfer"],
        "sections": ["reason for transfer", "receiving facility"],
    },
    "57133-1": {
        "titles": ["referral note", "referral letter", "referral", "letter of referral",
                   "request for consultation", "consultation request"],
        "sections": ["reason for referral"],
    },
    "18748-4": {
        "titles": ["radiology report", "imaging report", "diagnostic imaging",
                   "x-ray report", "ct report", "mri report", "ultrasound report"],
        "sections": ["examination", "comparison", "findings", "impression", "technique"],
    },
    "11502-2": {
        "titles": ["laboratory report", "lab report", "laboratory results",
                   "reference laboratory", "cumulative report"],
        "sections": ["specimen", "reference range", "results", "collected"],
    },
    "11526-1": {
        "titles": ["pathology report", "surgical pathology", "cytology report"],
        "sections": ["gross description", "microscopic description", "final diagnosis"],
    },
    "59284-0": {
        "titles": ["consent for operation", "consent for procedure", "informed consent",
                   "consent to treatment", "consent for", "consent"],
        "sections": ["signature of patient or representative", "witness"],
    },
    "AUTH": {
        "titles": ["authorization for release", "authorization to release",
                   "authorization for use and disclosure", "release of information",
                   "authorization to disclose"],
        "sections": ["information to be released", "expiration", "revocation"],
    },
    "CORR": {
        "titles": ["correspondence", "letter", "records enclosed", "visit summary"],
        "sections": ["sincerely", "dear"],
    },
    "PSYTHPN": {
        "titles": ["psychotherapy note", "psychotherapy session note"],
        "sections": ["session content", "therapeutic interventions"],
    },
    "SUDTX": {
        "titles": ["substance use disorder treatment", "addiction treatment note",
                   "chemical dependency"],
        "sections": ["substance use history", "recovery plan"],
    },
}  # fmt: skip
