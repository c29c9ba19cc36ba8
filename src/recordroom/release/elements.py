"""What a valid authorization or consent must contain, as data (R-AUTH-2/3, R-P2-2,
R-ACC-5), and the check of one form against it (R-AUTH-5 defects, R-AUTH-6
compound, R-AUTH-7 conditioning, R-AUTH-8 revocation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from recordroom.kernel import clock
from recordroom.mpi.zones import patient_facility

from .models import Authorization, AuthorizationKind


def auth_zone(auth: Authorization) -> Any:
    """Whose calendar a form's dates are on: its request's facility, else the
    patient's."""
    if auth.request is not None:
        return auth.request.facility
    return patient_facility(auth.patient)


@dataclass(frozen=True)
class Defect:
    """One reason a release cannot go ahead, in words the requester can act on.

    `rule` is the RULES.md ID (R-AUTH-2(5), R-DISC-3 ...); `element` names what is
    wrong or missing in a few words ("expiration date or event"); `message` says
    what it means and what to send."""

    rule: str
    element: str
    message: str


@dataclass(frozen=True)
class Element:
    """One item the form must have: `name` is the short name a letter prints,
    `words` what it must say. `when` limits it to some forms: "representative"
    (a personal representative signed) or "tpo" (a Part 2 TPO consent)."""

    code: str
    rule: str
    name: str
    words: str
    when: str = ""


_HIPAA: tuple[Element, ...] = (
    Element("description", "R-AUTH-2(1)", "description of the information",
            "a specific and meaningful description of the information to be released"),
    Element("discloser", "R-AUTH-2(2)", "who may release the information",
            "the name of the person or organization allowed to release it (us)"),
    Element("recipient", "R-AUTH-2(3)", "recipient",
            "the name of the person or organization to receive the information"),
    Element("purpose", "R-AUTH-2(4)", "purpose",
            "the purpose of the release ('at the request of the individual' is "
            "enough when the patient asks)"),
    Element("expiration", "R-AUTH-2(5)", "expiration date or event",
            "an expiration date, or an event that ends the authorization"),
    Element("signature", "R-AUTH-2(6)", "signature and date",
            "the patient's signature and the date it was signed"),
    Element("representative_authority", "R-AUTH-2(6)", "representative's authority",
            "a description of the signer's authority to act for the patient "
            "(guardian, power of attorney, executor)", when="representative"),
    Element("revocation_statement", "R-AUTH-3(1)", "right-to-revoke statement",
            "a statement that the authorization may be revoked in writing, and how "
            "(or a reference to our Notice of Privacy Practices)"),
    Element("conditioning_statement", "R-AUTH-3(2)", "conditioning statement",
            "a statement of whether treatment, payment, enrollment or eligibility "
            "for benefits may depend on signing"),
    Element("redisclosure_statement", "R-AUTH-3(3)", "redisclosure statement",
            "a statement that information released may be redisclosed by the "
            "recipient and then no longer be protected by federal privacy law"),
)  # fmt: skip

_PART2: tuple[Element, ...] = (
    Element("patient_name", "R-P2-2(1)", "patient's name", "the patient's name"),
    Element("discloser", "R-P2-2(2)", "who may release the information",
            "the name of the person or program allowed to release it (us)"),
    Element("description", "R-P2-2(3)", "description of the information",
            "a specific and meaningful description of the substance use disorder "
            "information to be released"),
    Element("recipient", "R-P2-2(4)", "recipient",
            "the name of each recipient, or a class of recipients"),
    Element("purpose", "R-P2-2(5)", "purpose",
            "the purpose of the release ('at the request of the patient' is enough)"),
    Element("revocation_statement", "R-P2-2(6)", "right-to-revoke statement",
            "the patient's right to revoke the consent in writing, and how"),
    Element("expiration", "R-P2-2(7)", "expiration date or event",
            "an expiration date or event ('end of treatment' or 'none' is enough for "
            "a treatment, payment and operations consent)"),
    Element("signature", "R-P2-2(8)", "signature",
            "the signature of the patient, or of the person authorized to sign for "
            "a minor, a patient lacking capacity or a deceased patient"),
    Element("date", "R-P2-2(9)", "date signed", "the date the consent was signed"),
    Element("tpo_redisclosure_statement", "R-P2-2", "TPO redisclosure statement",
            "a statement that the records may be redisclosed as HIPAA permits, "
            "except for use in proceedings against the patient", when="tpo"),
    Element("tpo_refusal_statement", "R-P2-2", "consequences of refusing",
            "a statement of the consequences of refusing to sign", when="tpo"),
)  # fmt: skip

_DIRECTIVE: tuple[Element, ...] = (
    Element("in_writing", "R-ACC-5", "written request",
            "the patient's request to send the copy to someone else, in writing"),
    Element("signature", "R-ACC-5", "patient's signature",
            "the patient's signature on that request"),
    Element("recipient", "R-ACC-5", "recipient",
            "the name of the person or organization to receive the copy"),
    Element("destination", "R-ACC-5", "where to send it",
            "where to send the copy (address, or electronic destination)"),
)  # fmt: skip

# Psychotherapy-notes authorizations carry the HIPAA elements (R-PN-2); SUD
# counseling-note consents the Part 2 ones (R-P2-4).
CHECKLISTS: dict[str, tuple[Element, ...]] = {
    AuthorizationKind.HIPAA: _HIPAA,
    AuthorizationKind.PSYCHOTHERAPY: _HIPAA,
    AuthorizationKind.PART2: _PART2,
    AuthorizationKind.PART2_COUNSELING: _PART2,
    AuthorizationKind.DIRECTIVE: _DIRECTIVE,
}

# What the form is combined with (Authorization.compound_with is "<code>" or
# "<code>: free text"). R-AUTH-6 decides which combinations are allowed.
COMPOUND_KINDS: dict[str, str] = {
    "authorization": "another HIPAA authorization",
    "psychotherapy": "another psychotherapy-notes authorization",
    "research": "a research consent or research authorization",
    "part2-notes": "another SUD counseling-notes consent",
    "other": "a document that is not an authorization (consent to treatment, "
    "admission form, privacy notice acknowledgment)",
}

# R-AUTH-7: when treatment, payment, enrollment or eligibility MAY depend on signing.
CONDITIONING_EXCEPTIONS: dict[str, str] = {
    "research": "research-related treatment (R-AUTH-7(i))",
    "plan-enrollment": "a health plan's enrollment, eligibility or underwriting "
    "(R-AUTH-7(ii))",
    "third-party-exam": "care given only to create information for a third party, "
    "such as a pre-employment physical (R-AUTH-7(iii))",
}

# Kinds checked as HIPAA authorizations (the directive is the patient's access
# request, not an authorization: R-AUTH-6/7 do not apply to it).
_AUTHORIZATION_KINDS = {
    AuthorizationKind.HIPAA, AuthorizationKind.PSYCHOTHERAPY,
    AuthorizationKind.PART2, AuthorizationKind.PART2_COUNSELING,
}  # fmt: skip


def checklist(kind: str) -> tuple[Element, ...]:
    return CHECKLISTS[kind]


def applies(element: Element, auth: Authorization) -> bool:
    if element.when == "representative":
        return auth.representative_signed
    if element.when == "tpo":
        return auth.tpo
    return True


def compound_code(auth: Authorization) -> str:
    return auth.compound_with.split(":", 1)[0].strip()


def check_authorization(auth: Authorization, *, on: date) -> list[Defect]:
    """Every defect of the form on the given date (R-AUTH-5 (i)-(v)); none: valid.

    (i) expired by date or event, (ii) an element or statement missing, (iii)
    revoked in writing on or before that date (R-AUTH-8), (iv) improperly compound
    (R-AUTH-6, R-P2-4) or conditioning (R-AUTH-7), (v) known to be false.
    """
    defects: list[Defect] = []
    if auth.expires_on and auth.expires_on < on:
        defects.append(Defect(
            "R-AUTH-5(i)", "expiration date",
            f"The authorization expired on {clock.long_date(auth.expires_on)}; nothing may be "
            "released under it. Please send a new signed authorization."))  # fmt: skip
    if auth.expiration_event_occurred:
        event = auth.expiration_event or "as written on the form"
        defects.append(Defect(
            "R-AUTH-5(i)", "expiration event",
            f"The event that ends the authorization ({event}) has occurred. Please "
            "send a new signed authorization."))  # fmt: skip
    defects += _missing(auth)
    revoked_on = clock.local_date(auth.revoked_at, auth_zone(auth))
    if revoked_on and revoked_on <= on:
        defects.append(Defect(
            "R-AUTH-5(iii)", "revocation",
            f"The patient revoked this authorization in writing on "
            f"{clock.long_date(revoked_on)}; nothing may be released under it after "
            "that (R-AUTH-8)."))  # fmt: skip
    if auth.kind in _AUTHORIZATION_KINDS:
        defects += _compound(auth) + _conditioning(auth)
    if auth.known_false:
        defects.append(Defect(
            "R-AUTH-5(v)", "false information",
            "We know that information on the form is false, so it is not valid. "
            "Please send a new, correct authorization."))  # fmt: skip
    return defects


def _missing(auth: Authorization) -> list[Defect]:
    """R-AUTH-5(ii): each applicable element not marked present. An expiration
    marked present with neither a date nor an event recorded is missing too."""
    out = []
    invalid = ("A form missing a required element is not valid (R-AUTH-5(ii))"
               if auth.kind in _AUTHORIZATION_KINDS else "It is required")  # fmt: skip
    for element in checklist(auth.kind):
        if not applies(element, auth):
            continue
        entry = auth.elements.get(element.code) or {}
        present = bool(entry.get("present"))
        if element.code == "expiration" and present:
            present = bool(auth.expires_on or auth.expiration_event.strip())
        if not present:
            out.append(Defect(element.rule, element.name,
                              f"The form does not have {element.words}. {invalid}: "
                              "please send a form that includes it."))  # fmt: skip
    return out


def _compound(auth: Authorization) -> list[Defect]:
    """R-AUTH-6: a psychotherapy-notes authorization only with another one (ii),
    an SUD counseling-notes consent only with another one (R-P2-4), any other with
    other authorizations unless conditioning applies (iii), research with research
    (i); never with a document that is not an authorization."""
    code = compound_code(auth)
    if not code:
        return []
    kind, allowed, rule = auth.kind, set(), "R-AUTH-6"
    if kind == AuthorizationKind.PSYCHOTHERAPY:
        allowed, rule = {"psychotherapy"}, "R-AUTH-6(ii)"
    elif kind == AuthorizationKind.PART2_COUNSELING:
        allowed, rule = {"part2-notes"}, "R-P2-4"
    else:
        allowed, rule = {"authorization", "research"}, "R-AUTH-6(iii)"
        if code == "research":
            rule = "R-AUTH-6(i)"
        elif code == "authorization" and auth.conditions_treatment:
            allowed = set()
    if code in allowed:
        return []
    what = COMPOUND_KINDS.get(code, code)
    only = {
        "R-AUTH-6(ii)": "A psychotherapy-notes authorization may be combined only "
        "with another psychotherapy-notes authorization.",
        "R-P2-4": "A consent for substance use counseling notes may be combined "
        "only with another counseling-notes consent.",
    }.get(rule, "An authorization may be combined only with other authorizations, "
          "and not when treatment or payment is conditioned on signing one of them.")  # fmt: skip
    return [Defect(rule, "combined with another document",
                   f"The form is combined with {what}. {only} Please send the "
                   "authorization on its own form.")]  # fmt: skip


def _conditioning(auth: Authorization) -> list[Defect]:
    """R-AUTH-7: treatment, payment, enrollment or eligibility conditioned on signing,
    outside its three exceptions (never for psychotherapy notes under (ii), never
    for SUD counseling notes, R-P2-4)."""
    if not auth.conditions_treatment:
        return []
    exception = auth.conditioning_exception
    allowed = exception in CONDITIONING_EXCEPTIONS
    if auth.kind == AuthorizationKind.PSYCHOTHERAPY and exception == "plan-enrollment":
        allowed = False
    if auth.kind == AuthorizationKind.PART2_COUNSELING:
        allowed = False
    if allowed:
        return []
    return [Defect("R-AUTH-7", "conditioning on signing",
                   "Treatment, payment, enrollment or eligibility was made to depend on "
                   "signing this form, which the law does not allow here. Please send "
                   "an authorization signed freely.")]  # fmt: skip


def normalize_elements(
    kind: str, given: dict[str, Any], before: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The stored form {code: {"present": bool, "note": str}} of every element of
    the kind's checklist, from `given` (code -> bool, or -> {"present", "note"})
    over `before`. Unknown codes are refused by name."""
    from recordroom.kernel.errors import ValidationFailed

    codes = [e.code for e in checklist(kind)]
    unknown = sorted(set(given) - set(codes))
    if unknown:
        raise ValidationFailed(
            f"unknown element(s) {', '.join(unknown)} for a {kind} form; its "
            f"checklist is {', '.join(codes)}", field="elements")  # fmt: skip
    out = {c: {"present": False, "note": ""} for c in codes}
    for code, value in {**(before or {}), **given}.items():
        if code not in out:
            continue
        if isinstance(value, dict):
            out[code] = {"present": bool(value.get("present")),
                         "note": str(value.get("note", ""))[:300]}  # fmt: skip
        else:
            out[code] = {"present": bool(value), "note": ""}
    return out
