"""Documents: the viewer page, the verified content (view/download/print), and upload."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from recordroom.accounts.permissions import has
from recordroom.audit.services import record
from recordroom.kernel import actions, clock, uploads
from recordroom.kernel.errors import (
    PermissionDenied,
    RecordroomError,
    TooLarge,
    ValidationFailed,
)
from recordroom.kernel.labels import LABELS
from recordroom.mpi.models import Facility, IdentifierKind, Patient
from recordroom.mpi.services import get_patient, in_scope
from recordroom.mpi.zones import patient_facility, user_zone
from recordroom.records import services as records
from recordroom.records.access import document_access
from recordroom.records.files import ACCEPTED, ACTIVE, LABELLED_TEXT
from recordroom.records.models import (
    Document,
    DocumentSource,
    DocumentStatus,
    DocumentType,
    Encounter,
)
from recordroom.web.request import actor_from_request

from .capture.chart import document_context
from .views_chart import labels, restricted_page
from .views_common import audit_denied, denial_audited, requires

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _document(request: HttpRequest, document_id: UUID, *, action: str) -> Document:
    """The document if in the user's scope and its labels are readable to the user;
    a refusal is audited as denied."""
    try:
        return records.get_document(user=request.user, document_id=document_id)
    except PermissionDenied as exc:
        patient_id = (
            Document.objects.filter(pk=document_id)
            .values_list("patient_id", flat=True)
            .first()
        )
        audit_denied(
            request,
            action=action,
            patient=patient_id,
            exc=exc,
            document=str(document_id),
        )
        raise


def _version_number(request: HttpRequest) -> int | None:
    raw = request.GET.get("version", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValidationFailed(
            f"version must be a number from 1, got {raw[:40]!r}", field="version"
        )
    return int(raw)


def viewer_kind(media_type: str) -> str:
    if media_type == "application/pdf":
        return "pdf"
    if media_type in ("image/png", "image/jpeg"):
        return "image"
    if media_type == "text/plain":
        return "text"
    return "download-only"  # e.g. TIFF: browsers cannot show it


@requires("view_document")
def document(request: HttpRequest, document_id: UUID) -> HttpResponse:
    try:
        doc = _document(request, document_id, action=actions.DOCUMENT_VIEW.name)
    except PermissionDenied as exc:
        # A label the user lacks on a chart in scope: say so, offer break-the-glass.
        doc_in_scope = Document.objects.filter(pk=document_id).first()
        if doc_in_scope is None or not in_scope(request.user, doc_in_scope.patient):
            raise
        patient = get_patient(user=request.user, patient_id=doc_in_scope.patient_id)
        return restricted_page(request, patient, exc, what="document")
    opened = document_access(request.user, doc)
    versions = list(
        doc.versions.prefetch_related("signatures__signer").order_by("number")
    )
    wanted = _version_number(request)
    shown = next((v for v in versions if v.number == wanted), None)
    if wanted is not None and shown is None:
        raise ValidationFailed(
            f"document has versions 1 to {len(versions)}, not {wanted}", field="version"
        )
    shown = shown or versions[-1]
    kind = viewer_kind(shown.media_type)
    text = ""
    if kind == "text":
        # Shown in the page itself, so this page is the read: audited as a view.
        content = records.read_content(
            actor=actor_from_request(request),
            document=doc,
            how="view",
            version_number=shown.number,
        )
        text = content.data.decode("utf-8", errors="replace")
    else:
        # The page itself shows PHI (patient, type, author, signers): audit it as a
        # chart read; the file's bytes are audited by the content request.
        record(
            actor=actor_from_request(request),
            action=actions.CHART_OPEN.name,
            patient=doc.patient_id,
            obj=doc,
            detail={
                "document": str(doc.pk),
                "part": "document page",
                **opened.audit(),
            },  # fmt: skip
        )
    context = {
        "doc": doc,
        "patient": doc.patient,
        "legal_name": doc.patient.legal_name(),
        "labels": labels(doc.sensitivity),
        "versions": versions,
        "shown": shown,
        "latest": versions[-1],
        "kind": kind,
        "text": text,
        "can_view_chart": has(request.user, "view_chart"),
        **document_context(request, doc),
    }
    return render(request, "web/document.html", context)


def download_name(filename: str, media_type: str) -> str:
    """A file name safe in any browser and file system, with the right extension."""
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    stem = _UNSAFE_NAME.sub("_", stem).strip(" ._") or "document"
    return stem[:120] + ACCEPTED.get(media_type, ((), ""))[1]


@requires("view_document")
def document_content(request: HttpRequest, document_id: UUID) -> HttpResponse:
    how = request.GET.get("how", "view")
    disposition = request.GET.get("disposition", "")
    if disposition not in ("", "inline", "attachment"):
        raise ValidationFailed(
            f"disposition is inline or attachment, not {disposition[:40]!r}",
            field="disposition",
        )
    version = _version_number(request)
    action = records.READ_ACTIONS.get(how, actions.DOCUMENT_VIEW.name)
    doc = _document(request, document_id, action=action)
    content = records.read_content(
        actor=actor_from_request(request), document=doc, how=how, version_number=version
    )
    media_type = content.version.media_type
    active = media_type in ACTIVE  # HTML, XML: never rendered in our origin
    if media_type in LABELLED_TEXT:
        media_type += "; charset=utf-8"
    attachment = (
        active or disposition == "attachment" or (not disposition and how == "download")
    )
    response = HttpResponse(content.data, content_type=media_type)
    name = download_name(content.version.filename, content.version.media_type)
    response["Content-Disposition"] = (
        content_disposition_header(attachment, name) or "inline"
    )
    if active:
        response["Content-Security-Policy"] = "sandbox"
    response["Content-Length"] = str(len(content.data))
    response["Cache-Control"] = "no-store, private"
    return response


# --- upload ---------------------------------------------------------------------------


class UploadForm(forms.Form):
    doc_type = forms.ModelChoiceField(
        label="Document type", queryset=DocumentType.objects.filter(active=True)
    )
    encounter = forms.ModelChoiceField(
        label="Encounter",
        queryset=Encounter.objects.none(),
        required=False,
        empty_label="(none: not tied to a visit)",
    )
    facility = forms.ModelChoiceField(
        label="Facility",
        queryset=Facility.objects.none(),
        required=False,
        help_text="Needed when no encounter is chosen.",
    )
    service_date = forms.DateField(
        label="Date of service",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    status = forms.ChoiceField(
        label="Status",
        choices=[
            (DocumentStatus.FINAL, DocumentStatus.FINAL.label),
            (DocumentStatus.PRELIMINARY, DocumentStatus.PRELIMINARY.label),
        ],
    )
    title = forms.CharField(label="Title", required=False, max_length=200)
    sensitivity = forms.MultipleChoiceField(
        label="Sensitivity labels",
        required=False,
        choices=[(label.code, f"{label.code}: {label.display}") for label in LABELS],
        widget=forms.CheckboxSelectMultiple,
    )
    file = forms.FileField(
        label="File", help_text="PDF, PNG, JPEG, TIFF or plain text."
    )
    filename = forms.CharField(
        label="Store as (file name)",
        required=False,
        max_length=255,
        strip=False,
        help_text="Optional; defaults to the uploaded file's own name.",
    )

    def __init__(self, *args: Any, patient: Patient, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = user.facility_ids()
        encounters = Encounter.objects.filter(patient=patient).select_related(
            "facility"
        )
        facility_ids = {
            i.facility_id
            for i in patient.identifiers.all()
            if i.kind == IdentifierKind.MRN and i.facility_id
        }
        if scope is not None:
            encounters = encounters.filter(facility_id__in=scope)
            facility_ids &= set(scope)
        field_enc: Any = self.fields["encounter"]
        field_enc.queryset = encounters.order_by("-admit_at")
        field_enc.label_from_instance = lambda e: (
            f"{e.account_number} · {e.get_encounter_class_display()} · "
            f"{clock.short_date(e.admit_at, e.facility)} · {e.facility.code}"
        )
        field_fac: Any = self.fields["facility"]
        field_fac.queryset = Facility.objects.filter(pk__in=facility_ids)
        if len(facility_ids) == 1:
            field_fac.initial = next(iter(facility_ids))


# Service error fields -> the form field that shows the message.
_FIELD_FOR = {"filename": "file", "file": "file", "media_type": "file"}


def _service_start(day: date, facility: Facility | None) -> datetime:
    """The date of service as the start of that day in the facility's zone."""
    return clock.start_of_day(day, facility)


def _read_upload(form: UploadForm) -> tuple[bytes, str, str]:
    uploaded = form.cleaned_data["file"]
    name = form.cleaned_data["filename"] or uploaded.name or ""
    limit = settings.MAX_UPLOAD_BYTES
    if uploaded.size > limit:  # refuse before reading gigabytes into memory
        raise TooLarge(
            f"file {name!r} is {uploaded.size / 1048576:.1f} MB; the limit is "
            f"{limit // 1048576} MB (set by the administrator)",
            field="file",
        )
    claimed = (uploaded.content_type or "").split(";")[0].strip().lower()
    return uploaded.read(), name, claimed if claimed in ACCEPTED else ""


def _file(request: HttpRequest, form: UploadForm, patient: Patient) -> Document:
    data, name, media_type = _read_upload(form)
    d = form.cleaned_data
    facility = d["encounter"].facility if d["encounter"] else d["facility"]
    return records.file_document(
        actor=actor_from_request(request),
        patient=patient,
        doc_type=d["doc_type"],
        data=data,
        filename=name,
        media_type=media_type,
        facility=facility,
        encounter=d["encounter"],
        service_start=_service_start(d["service_date"], facility),
        status=d["status"],
        source=DocumentSource.UPLOAD,
        sensitivity=d["sensitivity"],
        title=d["title"],
    )


@requires("add_document")
def upload(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    with denial_audited(
        request, action=actions.DOCUMENT_CREATE.name, patient=patient_id
    ):
        patient = get_patient(user=request.user, patient_id=patient_id)
    if request.method != "POST":
        # The form shows the patient's name and encounters: a chart read.
        record(
            actor=actor_from_request(request),
            action=actions.CHART_OPEN.name,
            patient=patient,
            detail={"part": "upload form"},
        )
    # today on the patient's facility's calendar, not the server's (UTC) date
    today = clock.today(
        patient_facility(patient, request.user) or user_zone(request.user)
    )
    initial = {"service_date": today, "status": DocumentStatus.FINAL}
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        patient=patient,
        user=request.user,
        initial=initial,
    )
    status = 200
    if request.method == "POST":
        if (refused := uploads.refusal(request)) is not None:
            form.is_valid()
            form.errors.pop("file", None)
            form.add_error("file", refused.message)
            status = refused.status
        elif form.is_valid():
            try:
                doc = _file(request, form, patient)
            except RecordroomError as exc:
                if isinstance(exc, PermissionDenied):
                    raise
                target = _FIELD_FOR.get(exc.field or "", exc.field)
                if exc.field == "filename" and form.cleaned_data["filename"]:
                    target = "filename"
                form.add_error(target if target in form.fields else None, exc.message)
                status = exc.status
            else:
                messages.success(
                    request,
                    f"Filed {doc.doc_type.display} "
                    f"({doc.versions.get(number=1).filename}).",
                )
                if not document_access(request.user, doc).allowed:
                    # Filed into the chart, but its labels keep the filer out of it.
                    return redirect("web:chart", patient_id=patient.pk)
                return redirect("web:document", document_id=doc.pk)
        else:
            status = 422
    context = {"form": form, "patient": patient, "legal_name": patient.legal_name()}
    return render(request, "web/upload.html", context, status=status)
