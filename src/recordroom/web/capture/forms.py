"""Forms of the indexing pages: the patient search beside a document, what the
document is (patient, visit, type, date of service), and page positions."""

from __future__ import annotations

from typing import Any

from django import forms

from recordroom.capture.models import CaptureDocument
from recordroom.kernel import clock
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Patient
from recordroom.mpi.services import get_patient
from recordroom.records.chart import visible_encounters
from recordroom.records.models import DocumentType, Encounter

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def position_of(raw: Any, count: int) -> int:
    """A 1-based page position from a form, refused by name when it is not one."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        raise ValidationFailed(f"a page position is a number, not {text[:20]!r}",
                               field="position")  # fmt: skip
    number = int(text)
    if not 1 <= number <= count:
        raise ValidationFailed(f"page {number} is not in this document (it has "
                               f"{count})", field="position")  # fmt: skip
    return number


class SearchForm(forms.Form):
    name = forms.CharField(label="Name", required=False, max_length=200)
    birth_date = forms.DateField(label="Date of birth", required=False, widget=_DATE)
    identifier = forms.CharField(label="MRN", required=False, max_length=100)


class AssignForm(forms.Form):
    patient = forms.CharField(required=False, widget=forms.HiddenInput)
    encounter = forms.ModelChoiceField(
        label="Visit", queryset=Encounter.objects.none(), required=False,
        empty_label="(no visit)",
    )  # fmt: skip
    doc_type = forms.ModelChoiceField(
        label="Document type", queryset=DocumentType.objects.filter(active=True),
        required=False, empty_label="(choose)",
    )  # fmt: skip
    service_date = forms.DateField(label="Date of service", required=False,
                                   widget=_DATE)  # fmt: skip

    def __init__(self, *args: Any, capdoc: CaptureDocument, user: Any,
                 **kwargs: Any) -> None:  # fmt: skip
        initial = {
            "encounter": capdoc.encounter_id, "doc_type": capdoc.doc_type_id,
            "service_date": capdoc.service_date,
        }  # fmt: skip
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.capdoc, self.user = capdoc, user
        field: Any = self.fields["encounter"]
        if capdoc.patient is not None:
            field.queryset = visible_encounters(user, capdoc.patient).select_related(
                "facility").order_by("-admit_at")  # fmt: skip
        field.label_from_instance = lambda e: (
            f"{e.account_number} · {e.get_encounter_class_display()} · "
            f"{clock.short_date(e.admit_at, e.facility) if e.admit_at else '—'} · "
            f"{e.facility.code}"
        )
        kind: Any = self.fields["doc_type"]
        kind.label_from_instance = lambda t: t.display

    def changes(self) -> dict[str, Any]:
        """What the posted form changes, as queue.assign arguments."""
        if not self.is_valid():
            first = next(iter(self.errors.values()))[0]
            raise ValidationFailed(str(first))
        d, out = self.cleaned_data, dict[str, Any]()
        if d["patient"]:
            out["patient"] = get_patient(user=self.user, patient_id=d["patient"])
        elif self.data.get("clear_patient"):
            out["patient"] = None
        patient_changes = "patient" in out and (
            (out["patient"].pk if out["patient"] else None) != self.capdoc.patient_id
        )
        if not patient_changes and "encounter" in self.data:
            out["encounter"] = d["encounter"]
        if "doc_type" in self.data:
            out["doc_type"] = d["doc_type"]
        if "service_date" in self.data:
            out["service_date"] = d["service_date"]
        return out


__all__ = ["Patient"]
