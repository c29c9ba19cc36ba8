"""Code sets, each release a `CodeSetVersion` with its effective dates (R-COD-1).

A release is loaded beside the ones before it, never over them: an encounter is
checked against the release in force on its discharge date, so loading a new fiscal
year leaves coded history as it was. Codes are stored without their dot (R-COD-2);
`display` carries it. A code's own tabular notes are kept as the tabular has them;
notes that a category gives all its codes are read from its ancestors (`parent`).
"""

from __future__ import annotations

from django.db import models


class System(models.TextChoices):
    ICD10CM = "icd10cm", "ICD-10-CM"
    ICD10PCS = "icd10pcs", "ICD-10-PCS"
    POA_EXEMPT = "poa-exempt", "POA exempt diagnoses"
    MSDRG = "ms-drg", "MS-DRG relative weights"


class CodeSetVersion(models.Model):
    system = models.CharField(max_length=16, choices=System.choices)
    label = models.CharField(max_length=40, help_text="e.g. FY2026 April update")
    effective_from = models.DateField()
    effective_to = models.DateField(
        null=True, blank=True, help_text="last day in force; open while blank"
    )
    source = models.CharField(
        max_length=300, help_text="the file or package it came from"
    )
    sha256 = models.CharField(max_length=64, blank=True)
    codes = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "effective_from"], name="coding_version_one_per_start"
            )
        ]
        ordering = ["system", "-effective_from"]

    def __str__(self) -> str:
        return f"{self.get_system_display()} {self.label}"

    def in_force(self, day: object) -> bool:
        return self.effective_from <= day and (  # type: ignore[operator]
            self.effective_to is None or day <= self.effective_to  # type: ignore[operator]
        )


class Kind(models.TextChoices):
    CHAPTER = "chapter", "Chapter"
    BLOCK = "block", "Block"
    CATEGORY = "category", "Category"
    SUBCATEGORY = "subcategory", "Subcategory"
    CODE = "code", "Code"  # a 7th-character extension (ICD-10-CM) or a PCS code
    TABLE = "table", "Table"  # ICD-10-PCS: the first three characters
    ITEM = "item", "Item"  # a list entry (POA exempt code, DRG weight)


SID_SPAN = 10_000_000


class Code(models.Model):
    version = models.ForeignKey(
        CodeSetVersion, on_delete=models.CASCADE, related_name="+"
    )
    code = models.CharField(max_length=16, help_text="without the dot")
    display = models.CharField(max_length=16)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    billable = models.BooleanField(
        help_text="valid for HIPAA transactions: a full code, not a header (R-COD-2)"
    )
    title = models.TextField()
    parent = models.CharField(max_length=16, blank=True)
    chapter = models.CharField(max_length=16, blank=True)
    block = models.CharField(max_length=16, blank=True)
    seq = models.PositiveIntegerField(help_text="the tabular's order")
    notes = models.JSONField(default=dict, blank=True)
    # search (coding.search): the title's words and the other words that find it
    # (inclusion terms, includes notes), as normalised tokens with one space between
    terms = models.TextField(blank=True)
    more_terms = models.TextField(blank=True)
    # the search order: version * SID_SPAN + the code's place when the version's codes
    # are sorted shortest title first, then in tabular order. The full-text indexes
    # hand matches over in this order, so a search stops at its limit.
    sid = models.BigIntegerField(unique=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "code"], name="coding_code_unique"
            )
        ]
        indexes = [models.Index(fields=["version", "code"], name="coding_code_lookup")]

    def __str__(self) -> str:
        return f"{self.display} {self.title}"


class DrgWeight(models.Model):
    """One MS-DRG's relative weight from CMS's Table 5 for one grouper version."""

    version = models.ForeignKey(
        CodeSetVersion, on_delete=models.CASCADE, related_name="+"
    )
    drg = models.CharField(max_length=3)
    weight = models.DecimalField(max_digits=8, decimal_places=4)
    title = models.TextField(blank=True)
    gmlos = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    amlos = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "drg"], name="coding_drg_unique")
        ]

    def __str__(self) -> str:
        return f"DRG {self.drg} {self.weight}"
