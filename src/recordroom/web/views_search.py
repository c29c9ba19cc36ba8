"""Patient search page: the form, the results table, and the audit of the query."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from recordroom.accounts.permissions import has
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.display import system_label
from recordroom.mpi.search import PatientHit, PatientQuery, SearchPage
from recordroom.records.access import chart_access
from recordroom.records.chart import find_patient_page, record_search
from recordroom.web.request import actor_from_request

from .views_common import requires

RESULT_LIMIT = 25


class SearchForm(forms.Form):
    name = forms.CharField(
        label="Name",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autofocus": True}),
        help_text="Family, given — or any start of either. Case and accents ignored.",
    )
    birth_date = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    identifier = forms.CharField(
        label="MRN or identifier", required=False, max_length=100
    )
    account = forms.CharField(label="Account number", required=False, max_length=40)
    ssn = forms.CharField(
        label="SSN last four",
        required=False,
        max_length=11,
        help_text="Optional: the last four digits, or all nine.",
    )


def _row(hit: PatientHit, user: Any = None) -> dict[str, Any]:
    legal = hit.legal_name
    matched = hit.matched_name
    other = matched is not None and legal is not None and matched.pk != legal.pk
    patient = hit.patient
    flags = list(patient.confidentiality_flags)
    if patient.deceased_date:
        flags.append("Deceased")
    return {
        "patient": patient,
        "legal_name": legal.display if legal else "(no name)",
        "matched_name": f"{matched.display} ({matched.get_use_display().lower()})"
        if other and matched
        else "",
        "age": _age(patient.birth_date, patient.deceased_date),
        "mrns": [
            (m.value, m.facility.code if m.facility else system_label(m.system))
            for m in hit.mrns
        ],
        "flags": flags,
        "reasons": hit.reasons,
        "address": hit.address,
        "phone": hit.phone,
        "last_visit": hit.last_visit,
        # A VIP or restricted chart the user's role may not open without a reason.
        "restricted": user is not None and not chart_access(user, patient).allowed,
    }


def _age(birth: date | None, deceased: date | None) -> str:
    if birth is None:
        return ""
    end = deceased or timezone.localdate()  # the user's facility's day (middleware)
    years = end.year - birth.year - ((end.month, end.day) < (birth.month, birth.day))
    return f"{years}y"


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    ok = raw.isascii() and raw.isdigit() and len(raw) <= 4
    return int(raw) if ok and 0 < int(raw) < 10_000 else 1


def _paging(request: HttpRequest, page: SearchPage | None) -> dict[str, Any]:
    """Links to the pages before and after, keeping the search."""
    if page is None:
        return {}
    number = page.offset // RESULT_LIMIT + 1
    params = request.GET.copy()

    def link(n: int) -> str:
        params["page"] = str(n)
        return "?" + params.urlencode()

    return {
        "number": number,
        "first": page.offset + 1,
        "last": page.offset + len(page.hits),
        "previous": link(number - 1) if number > 1 else "",
        "next": link(number + 1) if page.more else "",
    }


@requires("search_patients")
def search(request: HttpRequest) -> HttpResponse:
    submitted = any(k in request.GET for k in SearchForm.base_fields)
    form = SearchForm(request.GET if submitted else None)
    rows: list[dict[str, Any]] | None = None
    page: SearchPage | None = None
    if submitted and form.is_valid():
        data = form.cleaned_data
        query = PatientQuery(
            name=data["name"],
            birth_date=data["birth_date"],
            identifier=data["identifier"],
            ssn=data["ssn"],
            limit=RESULT_LIMIT,
            offset=(_page_number(request) - 1) * RESULT_LIMIT,
            tolerant=True,
        )
        try:
            page = find_patient_page(
                user=request.user, query=query, account=data["account"]
            )
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            record_search(
                actor=actor_from_request(request),
                query=query,
                account=data["account"],
                hits=page.hits,
            )
            rows = [_row(h, request.user) for h in page.hits]
    context = {
        "form": form,
        "rows": rows,
        "page": page,
        "paging": _paging(request, page),
        "limit": RESULT_LIMIT,
        # Link only where the user may go (an auditor searches but opens no chart).
        "opens_chart": has(request.user, "view_chart"),
        "reads_access_log": has(request.user, "view_access_log"),
    }
    return render(request, "web/search.html", context)
