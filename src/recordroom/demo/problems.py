"""A small library of presenting problems that give encounters and notes their content."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    key: str
    classes: tuple[str, ...]  # encounter classes it fits
    complaint: str
    diagnosis: str
    icd10: str
    ages: tuple[int, int] = (0, 120)
    sex: str = ""  # "" any, or "female"/"male"
    specialty: str = ""  # consulting/treating specialty
    procedure: str = ""  # an operation (inpatient) or office procedure
    imaging: str = ""
    labs: tuple[str, ...] = ("CBC", "BMP")
    meds: tuple[str, ...] = ()
    history: str = ""


_I, _O, _E, _S, _V = "IMP", "AMB", "EMER", "OBSENC", "VR"

PROBLEMS: tuple[Problem, ...] = (
    Problem("chest-pain", (_E, _S), "chest pain", "Chest pain, unspecified", "R07.9",
            (30, 120), specialty="Cardiology", imaging="Chest X-ray, 2 views",
            labs=("Troponin I", "CBC", "BMP", "Lipid panel"),
            meds=("aspirin 81 mg daily", "atorvastatin 40 mg nightly"),
            history="substernal pressure on exertion relieved by rest"),
    Problem("nstemi", (_I,), "chest pain", "Non-ST elevation myocardial infarction",
            "I21.4", (40, 120), specialty="Cardiology", procedure="Left heart catheterization",
            imaging="Chest X-ray, portable", labs=("Troponin I", "CBC", "BMP", "PT/INR"),
            meds=("aspirin 81 mg daily", "clopidogrel 75 mg daily", "metoprolol 25 mg BID"),
            history="two hours of crushing substernal pain with diaphoresis"),
    Problem("pneumonia", (_I, _E, _S), "cough and fever", "Pneumonia, unspecified organism",
            "J18.9", imaging="Chest X-ray, 2 views", labs=("CBC", "BMP", "Blood cultures"),
            meds=("ceftriaxone 1 g IV daily", "azithromycin 500 mg daily"),
            history="productive cough, fever to 38.9 C and pleuritic pain for four days"),
    Problem("chf", (_I, _S), "shortness of breath", "Acute on chronic systolic heart failure",
            "I50.23", (45, 120), specialty="Cardiology", imaging="Chest X-ray, portable",
            labs=("BNP", "BMP", "CBC"), meds=("furosemide 40 mg IV BID", "lisinopril 10 mg daily"),
            history="orthopnea, 4 kg weight gain and leg swelling over a week"),
    Problem("copd", (_I, _E, _O), "shortness of breath", "COPD with acute exacerbation",
            "J44.1", (40, 120), imaging="Chest X-ray, 2 views", labs=("CBC", "BMP", "ABG"),
            meds=("prednisone 40 mg daily", "albuterol/ipratropium nebulizer q4h"),
            history="increased sputum and wheeze after a viral illness"),
    Problem("cellulitis", (_I, _E, _O), "leg redness", "Cellulitis of left lower limb",
            "L03.116", labs=("CBC", "BMP"), meds=("cefazolin 2 g IV q8h",),
            history="spreading redness and warmth of the left shin for three days"),
    Problem("appendicitis", (_I,), "abdominal pain", "Acute appendicitis", "K35.80",
            (5, 80), specialty="General surgery", procedure="Laparoscopic appendectomy",
            imaging="CT abdomen and pelvis with contrast", labs=("CBC", "BMP", "Lipase"),
            meds=("piperacillin-tazobactam 3.375 g IV q6h",),
            history="periumbilical pain migrating to the right lower quadrant with anorexia"),
    Problem("cholecystitis", (_I,), "abdominal pain", "Acute cholecystitis", "K81.0",
            (25, 95), specialty="General surgery", procedure="Laparoscopic cholecystectomy",
            imaging="Ultrasound, right upper quadrant", labs=("CBC", "CMP", "Lipase"),
            meds=("ceftriaxone 2 g IV daily", "metronidazole 500 mg IV q8h"),
            history="right upper quadrant pain after fatty meals, now constant with fever"),
    Problem("hip-fracture", (_I,), "fall with hip pain", "Fracture of neck of right femur",
            "S72.001A", (60, 120), specialty="Orthopaedic surgery",
            procedure="Right hip hemiarthroplasty", imaging="X-ray pelvis and right hip",
            labs=("CBC", "BMP", "PT/INR", "Type and screen"),
            meds=("enoxaparin 40 mg SC daily", "acetaminophen 1 g q8h"),
            history="mechanical fall at home, unable to bear weight"),
    Problem("sepsis-uti", (_I,), "fever and confusion", "Sepsis due to E. coli, UTI",
            "A41.51", (50, 120), imaging="Chest X-ray, portable",
            labs=("CBC", "CMP", "Lactate", "Urinalysis", "Urine culture", "Blood cultures"),
            meds=("ceftriaxone 1 g IV daily", "IV fluids 30 mL/kg"),
            history="two days of dysuria, then fever, rigors and new confusion"),
    Problem("dka", (_I,), "vomiting", "Type 1 diabetes with ketoacidosis", "E10.10", (8, 60),
            labs=("BMP", "Beta-hydroxybutyrate", "VBG", "HbA1c"),
            meds=("insulin infusion per protocol", "IV fluids"),
            history="polyuria, polydipsia and vomiting after missed insulin doses"),
    Problem("stroke", (_I,), "right-sided weakness", "Cerebral infarction, left MCA", "I63.512",
            (50, 120), specialty="Neurology", imaging="CT head without contrast; MRI brain",
            labs=("CBC", "BMP", "Lipid panel", "HbA1c"),
            meds=("aspirin 325 mg daily", "atorvastatin 80 mg nightly"),
            history="sudden right arm and face weakness with slurred speech"),
    Problem("gi-bleed", (_I, _S), "black stools", "Gastrointestinal hemorrhage", "K92.2",
            (40, 120), procedure="Esophagogastroduodenoscopy", labs=("CBC", "BMP", "PT/INR"),
            meds=("pantoprazole 40 mg IV BID",),
            history="melena for two days and light-headedness on standing"),
    Problem("syncope", (_E, _S), "fainting", "Syncope and collapse", "R55", (12, 120),
            specialty="Cardiology", imaging="CT head without contrast",
            labs=("CBC", "BMP", "Troponin I"), history="brief loss of consciousness while standing"),
    Problem("ankle-sprain", (_E, _O), "ankle injury", "Sprain of right ankle", "S93.401A",
            (8, 70), imaging="X-ray right ankle, 3 views", labs=(),
            meds=("ibuprofen 600 mg q6h as needed",), history="inversion injury playing basketball"),
    Problem("laceration", (_E,), "cut on hand", "Laceration of left hand", "S61.412A",
            procedure="Simple laceration repair, 3 cm", labs=(),
            history="cut on a kitchen knife, bleeding controlled with pressure"),
    Problem("asthma", (_E, _O, _V), "wheezing", "Moderate persistent asthma, exacerbation",
            "J45.41", (3, 70), labs=(), meds=("albuterol HFA 2 puffs q4h as needed",
            "fluticasone 110 mcg 2 puffs BID"), history="wheeze and cough worse at night"),
    Problem("otitis", (_O, _V, _E), "ear pain", "Acute otitis media, right", "H66.91", (0, 12),
            labs=(), meds=("amoxicillin 90 mg/kg/day divided BID",),
            history="ear pulling, fever and fussiness for two days"),
    Problem("bronchiolitis", (_E, _I), "trouble breathing", "Acute bronchiolitis due to RSV",
            "J21.0", (0, 2), specialty="Pediatrics", labs=("RSV PCR",),
            meds=("nasal suction", "supplemental oxygen as needed"),
            history="congestion, cough and poor feeding in an infant"),
    Problem("well-child", (_O,), "well-child visit", "Routine child health examination",
            "Z00.129", (0, 17), specialty="Pediatrics", labs=(),
            history="routine visit; growth and development on track"),
    Problem("hypertension", (_O, _V), "blood pressure follow-up", "Essential hypertension",
            "I10", (30, 120), labs=("BMP", "Lipid panel"),
            meds=("lisinopril 20 mg daily", "amlodipine 5 mg daily"),
            history="home readings 140s/90s; no headache or chest pain"),
    Problem("diabetes", (_O, _V), "diabetes follow-up", "Type 2 diabetes without complications",
            "E11.9", (30, 120), labs=("HbA1c", "BMP", "Urine albumin/creatinine"),
            meds=("metformin 1000 mg BID", "empagliflozin 10 mg daily"),
            history="HbA1c trending down; no hypoglycemia"),
    Problem("back-pain", (_O, _V, _E), "low back pain", "Low back pain", "M54.50", (18, 90),
            imaging="X-ray lumbar spine", labs=(), meds=("naproxen 500 mg BID",),
            history="mechanical low back pain after lifting, no red flags"),
    Problem("annual", (_O,), "annual physical", "Routine adult health examination", "Z00.00",
            (18, 120), labs=("CBC", "CMP", "Lipid panel", "TSH"),
            history="annual preventive visit; no new concerns"),
    Problem("pregnancy", (_O,), "prenatal visit", "Supervision of normal pregnancy", "Z34.82",
            (18, 44), sex="female", specialty="Obstetrics and gynecology",
            imaging="Obstetric ultrasound", labs=("CBC", "Prenatal panel"),
            meds=("prenatal vitamin daily",), history="second trimester, no complaints"),
    Problem("knee-oa", (_O,), "knee pain", "Primary osteoarthritis, right knee", "M17.11",
            (45, 120), specialty="Orthopaedic surgery", procedure="Intra-articular steroid injection",
            imaging="X-ray right knee, 3 views", labs=(), history="years of activity-related pain"),
    Problem("depression", (_O, _V), "low mood", "Major depressive disorder, recurrent, moderate",
            "F33.1", (12, 120), specialty="Psychiatry", labs=("TSH",),
            meds=("sertraline 100 mg daily",), history="low mood, poor sleep and anhedonia"),
    Problem("anxiety", (_O, _V), "anxiety", "Generalized anxiety disorder", "F41.1", (12, 120),
            specialty="Psychiatry", labs=(), meds=("escitalopram 10 mg daily",),
            history="persistent worry, muscle tension and poor concentration"),
    Problem("oud", (_O,), "opioid use treatment", "Opioid dependence, uncomplicated", "F11.20",
            (16, 90), specialty="Addiction medicine", labs=("Urine drug screen", "Hepatitis C Ab"),
            meds=("buprenorphine-naloxone 8-2 mg SL daily", "naloxone 4 mg nasal spray"),
            history="in outpatient treatment; no return to use this month"),
    Problem("aud", (_O,), "alcohol use treatment", "Alcohol dependence, uncomplicated",
            "F10.20", (18, 90), specialty="Addiction medicine", labs=("CMP", "GGT"),
            meds=("naltrexone 50 mg daily",), history="abstinent for six weeks, attending groups"),
    Problem("hiv", (_O,), "HIV care visit", "HIV disease", "B20", (14, 90),
            specialty="Internal medicine", labs=("HIV-1 RNA viral load", "CD4 count", "CMP"),
            meds=("bictegravir/emtricitabine/tenofovir alafenamide daily",),
            history="adherent to antiretroviral therapy; no opportunistic infections"),
)  # fmt: skip
BY_KEY = {p.key: p for p in PROBLEMS}
SPECIAL = {
    "depression",
    "anxiety",
    "oud",
    "aud",
    "hiv",
}  # chosen by trait, not at random


def fitting(cls: str, age: int, sex: str) -> list[Problem]:
    return [
        p
        for p in PROBLEMS
        if cls in p.classes
        and p.key not in SPECIAL
        and p.ages[0] <= age <= p.ages[1]
        and (not p.sex or p.sex == sex)
    ]
