"""Is there a legal basis to release this request now (check_basis), and may a
document with these sensitivity labels go out under it (sensitive_gate)?

The basis depends on who asks: the right of access (R-ACC), a directive (R-ACC-5),
an authorization (R-AUTH-1), treatment (TPO), a court order (R-DISC-2), a subpoena
with its satisfactory assurances (R-DISC-3), law enforcement process (R-DISC-4),
public health (R-DISC-5). What a legal document says is kept in the request's
`legal_detail`, whose keys are LEGAL_DETAIL_KEYS below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings

from recordroom.kernel import clock

from .elements import Defect, check_authorization
from .models import Authorization, AuthorizationKind, ReleaseRequest, RequesterType
from .subpoenas import assurance_defects

PART2_LABELS = frozenset({"SUD", "ETH"})
PSYCHOTHERAPY = "PSYTHPN"
# Left out of non-treatment releases unless specifically authorized (R-STATE-2,
# minimum necessary R-MIN-1).
STATE_LABELS = frozenset({"HIV", "STD", "GDIS", "SDV", "SEX", "MINCC", "PSY", "MH"})
# R-P2-5: the short form of the prohibition on redisclosure (42 CFR 2.32).
PART2_NOTICE = (
    "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
)

# The keys of ReleaseRequest.legal_detail the checks read (docs/user-guide.md).
LEGAL_DETAIL_KEYS: dict[str, str] = {
    "order_signed_by_judge": "court order: signed by a judge or issued by the "
    "tribunal (R-DISC-2)",
    "signed_by_judge": "subpoena: signed by a judge (treated as a court order "
    "unless the administrator has turned that off)",
    "part2_court_order": "a 42 CFR 2.64-2.67 court order (notice and good cause) "
    "for Part 2 records (R-P2-6)",
    "covers": "sensitivity labels the order or process expressly names",
    "assurance": "subpoena without an order: notice, qpo or ce-efforts (R-DISC-3)",
    "written_statement": "the requesting party's written statement (A, B)",
    "documents": "the documentation received with it, a list (A, B)",
    "notice_sent_on": "date the patient was sent written notice (A, C)",
    "notice_sufficient": "the notice described the litigation enough to object (A)",
    "objection_deadline": "date the time to object ends; must have passed (A, C)",
    "objections_resolved": "no objection filed, or all resolved for disclosure (A, C)",
    "qpo": "qualified protective order: filed (agreed and filed) or requested (B, C)",
    "ce_effort": "what we did ourselves: notice or qpo (C)",
    "process": "law enforcement: warrant, judicial-subpoena, grand-jury-subpoena, "
    "administrative-request, identify-locate, crime-victim, death-by-crime, "
    "crime-on-premises, emergency-crime (R-DISC-4)",
    "relevant_material": "administrative request: relevant and material (f)(1)",
    "specific_limited": "administrative request: specific and limited (f)(1)",
    "deidentified_not_usable": "administrative request: de-identified data could "
    "not be used (f)(1)",
    "privacy_officer_approved": "law enforcement outside (f)(1): reviewed and "
    "approved by the privacy officer, who is named in approved_by",
    "public_health_basis": "public health: i, ii, iii, iv, v or vi of R-DISC-5",
    "authority": "public health: the authority or agency named",
    "employer_conditions_met": "R-DISC-5(v): care at the employer's request, needed "
    "for OSHA/MSHA duties, written notice given",
    "agreement_documented": "R-DISC-5(vi): the parent's or individual's agreement",
    "waiver_documented": "research under an IRB or privacy board waiver (R-DISC-6)",
}

F1_PROCESS = {
    "warrant": "a court-ordered warrant",
    "judicial-subpoena": "a subpoena or summons issued by a judicial officer",
    "grand-jury-subpoena": "a grand jury subpoena",
    "administrative-request": "an administrative subpoena, summons or demand",
}
OTHER_PROCESS = {
    "identify-locate": "identifying or locating a suspect, fugitive, material "
    "witness or missing person (R-DISC-4 (f)(2))",
    "crime-victim": "information about a crime victim (f)(3)",
    "death-by-crime": "a death suspected to result from crime (f)(4)",
    "crime-on-premises": "a crime on our premises (f)(5)",
    "emergency-crime": "reporting a crime in off-site emergency care (f)(6)",
}
PUBLIC_HEALTH = {
    "i": "a public health authority authorized by law",
    "ii": "an authority receiving child abuse or neglect reports",
    "iii": "a person subject to FDA jurisdiction, about an FDA-regulated product",
    "iv": "a person at risk of a communicable disease, as law authorizes",
    "v": "an employer, about work-related illness or injury",
    "vi": "a school, for proof of immunization",
}

_AUTH_KINDS = (
    AuthorizationKind.HIPAA, AuthorizationKind.PSYCHOTHERAPY,
    AuthorizationKind.PART2, AuthorizationKind.PART2_COUNSELING,
)  # fmt: skip
_LEGAL = (RequesterType.COURT_ORDER, RequesterType.SUBPOENA,
          RequesterType.LAW_ENFORCEMENT)  # fmt: skip


@dataclass
class BasisCheck:
    """`ok` when nothing stands in the way; `defects` each name their rule;
    `part2_notice` when an included document is a Part 2 record (R-P2-5); `basis`
    says in words what the release rests on, `authorization` the form used."""

    ok: bool
    defects: list[Defect]
    part2_notice: bool
    basis: str = ""
    rule: str = ""
    authorization: Authorization | None = None


@dataclass(frozen=True)
class Gate:
    include: bool
    rule: str = ""
    reason: str = ""


@dataclass
class _Found:
    basis: str
    rule: str
    defects: list[Defect] = field(default_factory=list)
    authorization: Authorization | None = None


def part2_notice_needed(labels: Iterable[str]) -> bool:
    """A document with these labels is a Part 2 record: its release carries the
    redisclosure notice and the consent or its scope (R-P2-5)."""
    return bool(PART2_LABELS & set(labels))


def _authorizations(req: ReleaseRequest) -> list[Authorization]:
    return sorted(req.authorizations.all(), key=lambda a: a.recorded_at, reverse=True)


def valid_authorizations(req: ReleaseRequest, *, on: date) -> list[Authorization]:
    """The forms attached to the request with no defect on that date."""
    return [a for a in _authorizations(req) if not check_authorization(a, on=on)]


def check_basis(req: ReleaseRequest, *, on: date | None = None) -> BasisCheck:
    """Whether the request has a valid legal basis to release on `on` (today), with
    every defect by rule. Refusing to release is the caller's job."""
    on = on or clock.today(req.facility)
    found = _CHECKS.get(req.requester_type, _authorization)(req, on)
    part2 = any(part2_notice_needed(i.labels) for i in req.items.filter(included=True))
    return BasisCheck(not found.defects, found.defects, part2, found.basis,
                      found.rule, found.authorization)  # fmt: skip


def _verified(req: ReleaseRequest) -> list[Defect]:
    """R-ACC-3 / R-DISC-7: the requester's identity (and a representative's
    authority) verified before anything is released."""
    out = []
    if not req.identity_verified:
        out.append(Defect(
            "R-ACC-3", "identity verification",
            "We must verify the identity of the person asking before we release "
            "records (R-DISC-7). Please send a copy of a photo ID, or come to the "
            "records office with one."))  # fmt: skip
    if (req.requester_type == RequesterType.REPRESENTATIVE
            and not req.representative_authority.strip()):  # fmt: skip
        out.append(Defect(
            "R-DISC-7", "representative's authority",
            "Please send proof of your authority to act for the patient "
            "(guardianship papers, power of attorney, letters of administration)."))  # fmt: skip
    return out


def _access(req: ReleaseRequest, on: date) -> _Found:
    return _Found("the patient's right of access (R-ACC-1)", "R-ACC-1", _verified(req))


def _best(
    req: ReleaseRequest, on: date, kinds: tuple[str, ...]
) -> tuple[Authorization | None, list[Defect]]:
    """The newest valid form of these kinds, else the defects of the newest one."""
    forms = [a for a in _authorizations(req) if a.kind in kinds]
    for auth in forms:
        if not check_authorization(auth, on=on):
            return auth, []
    return None, (check_authorization(forms[0], on=on) if forms else [])


def _directive(req: ReleaseRequest, on: date) -> _Found:
    """R-ACC-5: in writing, signed, naming the recipient and where to send it;
    after Ciox v. Azar an electronic copy only (a paper copy needs an
    authorization)."""
    found = _Found("the patient's written direction to send a copy (R-ACC-5)",
                   "R-ACC-5", _verified(req))  # fmt: skip
    auth, defects = _best(req, on, (AuthorizationKind.DIRECTIVE,))
    if auth is None and not defects:
        defects = [Defect(
            "R-ACC-5", "written directive",
            "A request to send the patient's records to someone else must be in "
            "writing, signed by the patient, and name the recipient and where to "
            "send the copy. Please send it.")]  # fmt: skip
    if req.format == "paper" and not _best(req, on, (AuthorizationKind.HIPAA,))[0]:
        defects.append(Defect(
            "R-ACC-5", "electronic copy",
            "A patient's direction to send records to another person covers "
            "electronic copies only. For a paper copy please send an authorization "
            "signed by the patient, or ask for an electronic copy."))  # fmt: skip
    found.defects += defects
    found.authorization = auth
    return found


def _authorization(req: ReleaseRequest, on: date) -> _Found:
    """R-AUTH-1: a third party needs a valid authorization, unless a payer asks
    for payment (TPO, legal_basis "payment") or research runs under a documented
    IRB or privacy board waiver (legal_basis "research-waiver", also accepted as
    "irb-waiver"; R-DISC-6)."""
    detail = req.legal_detail or {}
    if req.requester_type == RequesterType.PAYER and req.legal_basis == "payment":
        return _Found("payment (treatment, payment and operations; no "
                      "authorization needed)", "R-MIN-2")  # fmt: skip
    waiver = req.legal_basis in ("research-waiver", "irb-waiver")
    if req.requester_type == RequesterType.RESEARCH and waiver:
        found = _Found("research under an IRB or privacy board waiver", "R-DISC-6")
        if not detail.get("waiver_documented"):
            found.defects.append(Defect(
                "R-DISC-6", "waiver documentation",
                "Please send the IRB or privacy board's documentation of the waiver "
                "of authorization."))  # fmt: skip
        return found
    auth, defects = _best(req, on, _AUTH_KINDS)
    if auth is None and not defects:
        who = req.get_requester_type_display().lower()
        defects = [Defect(
            "R-AUTH-1", "authorization",
            f"A release to a {who} needs an authorization signed by the patient (or "
            "the patient's personal representative). We have none for this "
            "request. Please send one.")]  # fmt: skip
    signed = f" signed {auth.signed_on:%Y-%m-%d}" if auth and auth.signed_on else ""
    return _Found(f"the patient's authorization{signed} (R-AUTH-1)", "R-AUTH-1",
                  defects, auth)  # fmt: skip


def _treatment(req: ReleaseRequest, on: date) -> _Found:
    return _Found("treatment by another provider (no authorization needed)",
                  "R-MIN-2")  # fmt: skip


def _court_order(req: ReleaseRequest, on: date) -> _Found:
    """R-DISC-2: only what the order expressly authorizes; no assurance needed."""
    found = _Found("a court order (R-DISC-2)", "R-DISC-2")
    if not (req.legal_detail or {}).get("order_signed_by_judge"):
        found.defects.append(Defect(
            "R-DISC-2", "judge's signature",
            "A court order must be signed by a judge (or issued by the tribunal). "
            "Please send the signed order."))  # fmt: skip
    return found


def judge_subpoena_is_order(detail: dict[str, Any]) -> bool:
    """R-DISC-2 [GUIDANCE/VERIFY]: a judge-signed subpoena counts as a court order
    while RECORDROOM_ROI_JUDGE_SUBPOENA_IS_ORDER is 1 (the default)."""
    return bool(detail.get("signed_by_judge")) and settings.ROI_JUDGE_SUBPOENA_IS_ORDER


def _subpoena(req: ReleaseRequest, on: date) -> _Found:
    """R-DISC-3: without an order, one satisfactory assurance with all its
    documentation, and for a notice the objection period ended: blocked until
    every required field is present."""
    detail = req.legal_detail or {}
    if judge_subpoena_is_order(detail):
        return _Found("a subpoena signed by a judge, treated as a court order "
                      "(R-DISC-2)", "R-DISC-2")  # fmt: skip
    kind = detail.get("assurance", "")
    return _Found(f"a subpoena with satisfactory assurance ({kind or 'none'}, R-DISC-3)",
                  "R-DISC-3", assurance_defects(detail, on))  # fmt: skip


def _law_enforcement(req: ReleaseRequest, on: date) -> _Found:
    """R-DISC-4: (f)(1) process is a basis (an administrative request when its
    three conditions are stated); the other purposes release only limited facts
    and go to the privacy officer, whose approval is recorded."""
    detail = req.legal_detail or {}
    process = detail.get("process", "")
    what = F1_PROCESS.get(process) or OTHER_PROCESS.get(process, "no process named")
    found = _Found(f"law enforcement: {what}", "R-DISC-4", _verified(req))
    if process == "administrative-request":
        for key, words in (("relevant_material", "that the information is relevant "
                            "and material to a legitimate inquiry"),
                           ("specific_limited", "that the request is specific and "
                            "limited in scope"),
                           ("deidentified_not_usable", "that de-identified "
                            "information could not be used")):  # fmt: skip
            if not detail.get(key):
                found.defects.append(Defect(
                    "R-DISC-4", key.replace("_", " "),
                    f"An administrative request must state {words}. Please send a "
                    "request that does."))  # fmt: skip
    elif process in OTHER_PROCESS:
        if not (detail.get("privacy_officer_approved") and detail.get("approved_by")):
            found.defects.append(Defect(
                "R-DISC-4", "privacy officer review",
                f"A request for {OTHER_PROCESS[process]} is limited by law to certain "
                "facts (for (f)(2): name and address, date and place of birth, SSN, "
                "blood type, type of injury, dates and times of treatment or death, "
                "physical description; never DNA, dental records or tissue typing). "
                "Our privacy officer must review it and decide what is released."))  # fmt: skip
    elif process not in F1_PROCESS:
        found.defects.append(Defect(
            "R-DISC-4", "legal process",
            "Please send the warrant, the subpoena or summons issued by a judicial "
            "officer, the grand jury subpoena, or the administrative demand."))  # fmt: skip
    return found


def _public_health(req: ReleaseRequest, on: date) -> _Found:
    """R-DISC-5: the category of public health disclosure, and for an employer or
    a school its conditions."""
    detail = req.legal_detail or {}
    code = str(detail.get("public_health_basis", ""))
    found = _Found(f"public health: {PUBLIC_HEALTH.get(code, 'no category named')} "
                   f"(R-DISC-5)", "R-DISC-5", _verified(req))  # fmt: skip
    if code not in PUBLIC_HEALTH:
        found.defects.append(Defect(
            "R-DISC-5", "public health authority",
            "Please state the law under which you ask (a public health authority's "
            "reporting, child abuse reports, FDA product reports, ...)."))  # fmt: skip
    elif not (detail.get("authority") or req.requester_organization).strip():
        found.defects.append(Defect("R-DISC-5", "authority",
                                    "Please name the authority or agency asking."))  # fmt: skip
    elif code == "v" and not detail.get("employer_conditions_met"):
        found.defects.append(Defect(
            "R-DISC-5", "employer conditions",
            "An employer receives findings only when the care was given at its "
            "request, the findings are needed for OSHA, MSHA or state law duties, "
            "and the patient was told in writing."))  # fmt: skip
    elif code == "vi" and not detail.get("agreement_documented"):
        found.defects.append(Defect(
            "R-DISC-5", "agreement",
            "Proof of immunization goes to a school only with the parent's (or the "
            "adult student's) agreement. Please send it."))  # fmt: skip
    return found


_CHECKS: dict[str, Callable[[ReleaseRequest, date], _Found]] = {
    RequesterType.PATIENT: _access,
    RequesterType.REPRESENTATIVE: _access,
    RequesterType.THIRD_PARTY_DIRECTIVE: _directive,
    RequesterType.PROVIDER: _treatment,
    RequesterType.COURT_ORDER: _court_order,
    RequesterType.SUBPOENA: _subpoena,
    RequesterType.LAW_ENFORCEMENT: _law_enforcement,
    RequesterType.PUBLIC_HEALTH: _public_health,
}
