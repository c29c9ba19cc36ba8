"""The query templates shipped with Recordroom (seeded by migration 0002, editable in
the admin after). Each is written to the rules: no option pre-selected (the author
picks those the indicators support, R-QRY-5), no financial word, yes/no only on the
grounds R-QRY-4 allows. Words in {braces} are the author's to replace."""

from __future__ import annotations

# (code, name, format, purpose, question, options, yes/no ground)
TEMPLATES: tuple[tuple[str, str, str, str, str, tuple[str, ...], str], ...] = (
    ("open-clarification", "Clarification (open-ended)", "open", "ambiguous",
     "Based on the clinical indicators below, please clarify the condition being "
     "evaluated, monitored or treated.", (), ""),
    ("clinical-validation", "Clinical validation (open-ended)", "open", "unsupported",
     "{condition} is documented in the {document} of {date}. Based on the clinical "
     "indicators below, please provide your clinical assessment of this condition.",
     (), ""),
    ("anemia-type", "Anemia: type and acuity", "multiple", "imprecise",
     "Based on the clinical indicators below, please clarify the type of anemia being "
     "monitored and treated, if any.",
     ("Acute blood loss anemia", "Anemia of chronic disease", "Iron deficiency anemia",
      "Expected postoperative blood loss without anemia", "Dilutional anemia"), ""),
    ("heart-failure-type", "Heart failure: type and acuity", "multiple", "imprecise",
     "Heart failure is documented. Based on the clinical indicators below, please "
     "clarify its type and acuity.",
     ("Acute systolic (HFrEF)", "Acute on chronic systolic (HFrEF)",
      "Acute diastolic (HFpEF)", "Acute on chronic diastolic (HFpEF)",
      "Chronic systolic (HFrEF)", "Chronic diastolic (HFpEF)"), ""),
    ("malnutrition-severity", "Malnutrition: severity", "multiple", "incomplete",
     "The dietitian's assessment and the clinical indicators below are in the record. "
     "Please clarify the patient's nutritional status.",
     ("Severe protein-calorie malnutrition", "Moderate protein-calorie malnutrition",
      "Mild protein-calorie malnutrition", "At risk, no malnutrition"), ""),
    ("sepsis-validation", "Sepsis: clinical validation", "multiple", "unsupported",
     "Sepsis is documented in the {document} of {date}. Based on the clinical "
     "indicators below, please clarify the patient's condition.",
     ("Sepsis, confirmed", "Sepsis, ruled out", "Localized infection without sepsis",
      "SIRS of non-infectious origin"), ""),
    ("poa-status", "Present on admission", "yes-no", "incomplete",
     "{condition} is documented in the {document} of {date}. Was it present at the "
     "time of the inpatient admission?", (), "poa"),
    ("cause-effect", "Relationship between documented conditions", "yes-no",
     "incomplete",
     "{condition A} and {condition B} are both documented. Based on the clinical "
     "indicators below, is {condition A} due to {condition B}?", (), "cause-effect"),
    ("conflicting-documentation", "Conflicting documentation", "open", "conflicting",
     "The record documents {finding} in the {document A} and {other finding} in the "
     "{document B}. Please clarify the patient's condition.", (), ""),
)
