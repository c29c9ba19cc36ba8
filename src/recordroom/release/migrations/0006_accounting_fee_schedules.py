"""Fee schedules (configuration as data, editable in the admin).

The patient's own access (R-ACC-6): the flat fee of at most $6.50 for electronic
copies of electronically kept PHI, or a cost-based schedule for paper (labor and
supplies per page, portable media, postage); never search or retrieval fees, never
per-page fees for electronic copies (fees.py enforces both whatever is set here).
Third-party page tiers and search/retrieval fees, the accounting of disclosures'
fee (R-AOD-6) and the cost figures are EXAMPLES: set your state's and your costs.
"""

from typing import Any

from django.db import migrations

EXAMPLE = "Example figures: replace with your own costs and your state's law."

SCHEDULES: list[dict[str, Any]] = [
    dict(
        code="patient-access",
        name="Patient access (right of access): flat fee for electronic copies, "
        "cost-based for paper",
        requester_types=["patient", "representative"],
        electronic_flat_cents=650,
        page_tiers=[{"up_to": None, "cents": 10}],
        media_cents=300,
        postage_cents=73,
        rule="R-ACC-6",
        note="$6.50 is the federal all-inclusive maximum for electronic copies of "
        "electronically kept PHI (OCR access guidance). The paper per-page cost, "
        "portable media and postage are examples of a cost-based schedule (labor and "
        "supplies only). A lower state cap applies: set max_cents. No search or "
        "retrieval fee may be charged.",
    ),
    dict(
        code="third-party-example",
        name="Third-party requests (example page tiers and fees: set your state's)",
        requester_types=[
            "authorized",
            "attorney",
            "payer",
            "directive",
            "subpoena",
            "court-order",
            "research",
        ],
        page_tiers=[
            {"up_to": 20, "cents": 100},
            {"up_to": 60, "cents": 50},
            {"up_to": None, "cents": 25},
        ],
        search_fee_cents=1500,
        retrieval_fee_cents=1000,
        media_cents=300,
        postage_cents=73,
        rule="R-STATE",
        note=EXAMPLE + " States set per-page tiers, search and retrieval fees and "
        "caps for third parties. A third party the patient directs to receive an "
        "electronic copy is not held to the access fee limits (Ciox v. Azar).",
    ),
    dict(
        code="no-charge",
        name="Treatment and public health: no charge",
        requester_types=["provider", "public-health"],
        rule="",
        note="House default: continuity of care and public health reporting are "
        "not charged.",
    ),
    dict(
        code="accounting",
        name="Accounting of disclosures: second and later in twelve months",
        electronic_flat_cents=1000,
        rule="R-AOD-6",
        note=EXAMPLE + " The first accounting in any twelve months is free; this "
        "flat, cost-based fee applies to later ones, if the individual is told in "
        "advance and may withdraw or change the request.",
    ),
]


def seed(apps, schema_editor):
    schedule = apps.get_model("release", "FeeSchedule")
    schedule.objects.bulk_create(schedule(**row) for row in SCHEDULES)


def unseed(apps, schema_editor):
    codes = [row["code"] for row in SCHEDULES]
    apps.get_model("release", "FeeSchedule").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("release", "0005_accounting_disclosures_append_only")]
    operations = [migrations.RunPython(seed, unseed)]
