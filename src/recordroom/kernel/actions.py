"""Audit actions: dotted `domain.verb` names, declared once (STYLE.md convention 2).

`kind` is the ASTM E2147 action class (create, read, update, delete, print, export,
query, login); the FHIR AuditEvent export maps it to AuditEvent.action.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    name: str
    kind: str
    help: str


_REGISTRY: dict[str, Action] = {}


def declare(name: str, kind: str, help: str) -> Action:
    if name in _REGISTRY:
        raise ValueError(f"audit action {name!r} is declared twice")
    if kind not in {
        "create",
        "read",
        "update",
        "delete",
        "print",
        "export",
        "query",
        "login",
    }:
        raise ValueError(f"audit action {name!r} has unknown kind {kind!r}")
    action = Action(name, kind, help)
    _REGISTRY[name] = action
    return action


def get(name: str) -> Action:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"audit action {name!r} is not declared in kernel.actions"
        ) from None


def all_actions() -> list[Action]:
    return sorted(_REGISTRY.values(), key=lambda a: a.name)


# Sessions and security
LOGIN = declare("auth.login", "login", "A user signed in.")
LOGOUT = declare("auth.logout", "login", "A user signed out or the session ended.")
LOGIN_FAILED = declare("auth.login_failed", "login", "A sign-in was refused.")
MFA_ENROLLED = declare("auth.mfa_enrolled", "update", "A user set up a second factor.")
TOKEN_CREATED = declare("auth.token_created", "create", "An API token was issued.")
TOKEN_REVOKED = declare("auth.token_revoked", "update", "An API token was revoked.")
CLIENT_CREATED = declare(
    "auth.client_created", "create", "A system client (OAuth2) was registered."
)
CLIENT_REVOKED = declare(
    "auth.client_revoked",
    "update",
    "A system client was revoked; its access tokens stopped working.",
)
CLIENT_KEYS = declare(
    "auth.client_keys",
    "update",
    "A system client's public keys (JWKS) for private_key_jwt were registered or "
    "replaced.",
)
CLIENT_TOKEN = declare(
    "auth.client_token",
    "login",
    "A system client got an OAuth2 access token (client credentials, scopes kept).",
)
USER_CREATED = declare("accounts.user_created", "create", "A user account was created.")
ADMIN_CHANGE = declare(
    "admin.change", "update", "An administrator changed configuration in the admin."
)
CLI_MANAGE = declare(
    "cli.manage", "query", "A Django management command was run (arguments kept)."
)
# Patients
PATIENT_SEARCH = declare(
    "patient.search", "query", "Patients were searched (query kept)."
)
PATIENT_CREATE = declare("patient.create", "create", "A patient was registered.")
PATIENT_UPDATE = declare("patient.update", "update", "Patient demographics changed.")
PATIENT_MERGE = declare(
    "patient.merge", "update", "A duplicate record was merged into its survivor."
)
PATIENT_UNMERGE = declare(
    "patient.unmerge", "update", "A merge was undone; both records restored."
)
PATIENT_SPLIT = declare(
    "patient.split",
    "update",
    "Encounters and documents of an overlaid chart were moved to another patient.",
)
PATIENT_SPLIT_UNDO = declare(
    "patient.split_undo", "update", "A split was undone; the rows moved back."
)
MPI_MERGE_HOLD = declare(
    "mpi.merge_hold",
    "create",
    "An inbound merge (HL7 ADT^A40) was held for review instead of applied (reasons "
    "kept).",
)
MPI_MERGE_HOLD_DECIDE = declare(
    "mpi.merge_hold_decide",
    "update",
    "A held inbound merge was approved (and merged) or rejected.",
)
MPI_OVERLAY_SCAN = declare(
    "mpi.overlay_scan",
    "query",
    "The index was scanned for overlays (charts of two people).",
)
MPI_PAIR_DECISION = declare(
    "mpi.pair_decision",
    "update",
    "Two records were judged not a duplicate, linked (kept apart) or deferred.",
)
MPI_OVERLAY_RESOLVE = declare(
    "mpi.overlay_resolve", "update", "An overlay flag was closed as not an overlay."
)
MPI_SCAN_START = declare(
    "mpi.scan_start",
    "query",
    "A duplicate scan of the whole patient index started or resumed.",
)
MPI_SCAN = declare(
    "mpi.scan",
    "create",
    "A duplicate scan finished: candidate pairs and clusters written (model, counts kept).",
)
MPI_PAIR_ASSIGN = declare(
    "mpi.pair_assign",
    "update",
    "A pair on the duplicate worklist was given to a specialist, or taken back.",
)
MPI_SCAN_REQUEST = declare(
    "mpi.scan_request",
    "create",
    "Someone asked for a duplicate scan from the worklist (Scan now); the worker runs it.",
)
MPI_PAIRS_EXPORT = declare(
    "mpi.pairs_export", "export", "Candidate duplicate pairs were exported as CSV."
)
MPI_REGISTRATION_MATCH = declare(
    "mpi.registration_match",
    "create",
    "Search before create decided a registration: linked, sent to review or created.",
)
MPI_LINK_REVIEW = declare(
    "mpi.link_review", "update", "A sampled automatic link was reviewed."
)
CHART_OPEN = declare("chart.open", "read", "A patient's chart was opened.")
CHART_BREAK_GLASS = declare(
    "chart.break_glass",
    "read",
    "Someone gave a reason to open a chart, document or visit its sensitivity labels "
    "restrict (break-the-glass); the privacy officer reviews each one.",
)
LABEL_ACCESS_CHANGE = declare(
    "labels.change", "update", "Who may read a sensitivity label was changed."
)
CHART_ACCESS_LOG = declare(
    "chart.access_log", "read", "Someone viewed who accessed a patient's record."
)
# Facilities
FACILITY_CREATED = declare(
    "facility.create",
    "create",
    "A facility was created (code, name, time zone and MRN system kept).",
)
FACILITY_MRN_SETTINGS = declare(
    "facility.mrn_settings",
    "update",
    "A facility's MRN assignment settings changed (source, next number, width, "
    "prefix, check digit; before and after kept).",
)

# Encounters and documents
ENCOUNTER_CREATE = declare("encounter.create", "create", "An encounter was recorded.")
ENCOUNTER_UPDATE = declare("encounter.update", "update", "An encounter changed.")
DOCUMENT_CREATE = declare("document.create", "create", "A document was filed.")
DOCUMENT_VERSION = declare(
    "document.version", "create", "A new version (amendment, addendum, correction)."
)
DOCUMENT_STATUS = declare("document.status", "update", "A document's status changed.")
DOCUMENT_SIGN = declare("document.sign", "update", "A document version was signed.")
DOCUMENT_SEARCH = declare(
    "document.search",
    "query",
    "The text inside documents was searched (query kept; one event per patient "
    "whose pages were returned, naming the documents and pages).",
)
DOCUMENT_VIEW = declare("document.view", "read", "A document was shown on screen.")
DOCUMENT_DOWNLOAD = declare(
    "document.download", "read", "A document file was downloaded."
)
DOCUMENT_PRINT = declare("document.print", "print", "A document was sent to print.")
DOCUMENT_INTEGRITY = declare(
    "document.integrity_failure", "read", "A stored file failed its integrity check."
)
# Results (lab and radiology)
RESULT_CREATE = declare(
    "result.create", "create", "A lab or radiology result was filed."
)
RESULT_VERSION = declare(
    "result.version",
    "update",
    "A result was corrected or updated by its sender; the earlier version is kept.",
)
# Audit trail itself
AUDIT_EXPORT = declare("audit.export", "export", "Audit events were exported.")
AUDIT_VIEW = declare("audit.view", "read", "A page of the audit trail was read.")
AUDIT_VERIFY = declare("audit.verify", "read", "The audit chain was verified.")
# Backup and restore
BACKUP_CREATE = declare(
    "backup.create", "export", "A backup of the database and documents was written."
)
BACKUP_RESTORE = declare(
    "backup.restore", "create", "This installation was restored from a backup."
)
KEYS_EXPORT = declare(
    "keys.export", "export", "The keys (blob, secret, audit) were exported."
)
AUDIT_CHAIN_KEYED = declare(
    "audit.chain_keyed",
    "update",
    "The audit chain switched from plain SHA-256 to HMAC-SHA256 (once, at upgrade); "
    "the events before it keep their plain hashes and are sealed by this one's.",
)
ACCESS_DENIED = declare(
    "access.denied",
    "read",
    "An attempt was refused: a missing permission, a patient or facility outside the "
    "user's scope, or a sensitivity label (web, API and FHIR alike).",
)
SESSION_EXPIRED = declare(
    "auth.session_expired",
    "login",
    "A session ended after the idle limit (R-SEC-1 automatic logoff), seen on its "
    "next request.",
)
# Bulk
DEMO_LOAD = declare("demo.load", "create", "Synthetic demo population loaded.")

# Interfaces
INTERFACE_MESSAGE = declare(
    "interface.message", "create", "An interface message (HL7 v2) was received."
)
INTERFACE_VIEW = declare(
    "interface.view", "read", "An interface message's raw content was shown."
)
INTERFACE_REPROCESS = declare(
    "interface.reprocess",
    "update",
    "An interface message in error was reprocessed (before and after kept).",
)
INTEROP_WRITE = declare(
    "interop.write",
    "create",
    "A resource was created or updated from FHIR (API or import), with its source.",
)
INTEROP_IMPORT = declare(
    "interop.import", "create", "A bulk FHIR import ran (files, counts, quarantined)."
)
INTEROP_EXPORT = declare(
    "interop.export", "export", "A bulk FHIR export was requested or downloaded."
)
INTEROP_IMPORT_ABANDONED = declare(
    "interop.import_abandoned",
    "update",
    "An import run left 'running' by a process that died was marked failed.",
)

# Release of information (release/)
RELEASE_REQUEST_CREATE = declare(
    "release.request_create", "create", "A release-of-information request was logged."
)
RELEASE_REQUEST_UPDATE = declare(
    "release.request_update",
    "update",
    "A release request changed: status, scope, extension, verification.",
)
RELEASE_AUTHORIZATION = declare(
    "release.authorization",
    "update",
    "An authorization or consent was recorded, checked element by element, or revoked.",
)
RELEASE_SCOPE = declare(
    "release.scope",
    "read",
    "A request's documents were selected (minimum necessary), with what was left out.",
)
RELEASE_REDACT = declare(
    "release.redact", "update", "Pages were excluded or regions redacted for a release."
)
RELEASE_REVIEW = declare(
    "release.review", "update", "A release packet was quality-reviewed before release."
)
RELEASE_PACKET = declare(
    "release.packet", "print", "A release packet (PDF or electronic copy) was built."
)
RELEASE_RELEASE = declare(
    "release.release", "export", "Records were released to a requester."
)
RELEASE_REFUSED = declare(
    "release.refused",
    "update",
    "A release step was refused (defective authorization, no review, uncovered "
    "sensitive records, expired link ...); nothing left.",
)
RELEASE_DENY = declare(
    "release.deny", "update", "A request was denied in whole or part, with its ground."
)
RELEASE_LETTER = declare(
    "release.letter", "print", "A letter to a requester was produced (PDF)."
)
RELEASE_LINK = declare(
    "release.link", "create", "A download link for a released packet was created."
)
RELEASE_DOWNLOAD = declare(
    "release.download", "export", "A released packet was downloaded through its link."
)
RELEASE_INVOICE = declare(
    "release.invoice", "create", "A release was invoiced, paid or its fee waived."
)
RELEASE_DISCLOSURE = declare(
    "release.disclosure",
    "create",
    "A disclosure was entered in the accounting (or an entry corrected by a new one).",
)
RELEASE_ACCOUNTING = declare(
    "release.accounting",
    "export",
    "A patient's accounting of disclosures was produced.",
)
RELEASE_ACCOUNTING_REQUEST = declare(
    "release.accounting_request",
    "update",
    "A request for an accounting of disclosures was logged, extended, its fee agreed "
    "or withdrawn.",
)
RELEASE_ACCOUNTING_SUSPEND = declare(
    "release.accounting_suspend",
    "create",
    "An agency's statement suspended the accounting of disclosures made to it.",
)
RELEASE_DELIVER = declare(
    "release.deliver",
    "update",
    "A released packet was recorded as mailed, faxed or picked up; a download link "
    "was revoked.",
)

# Capture (scan, fax, upload, import)
CAPTURE_RECEIVE = declare(
    "capture.receive",
    "create",
    "A file was received for capture (kept byte for byte), or refused with its reason.",
)
CAPTURE_PROCESS = declare(
    "capture.process",
    "update",
    "A capture batch was read (OCR, split, barcodes) and its documents proposed.",
)
CAPTURE_FILE = declare(
    "capture.file",
    "create",
    "A captured document was filed into a chart, automatically or by an indexer.",
)
CAPTURE_EDIT = declare(
    "capture.edit",
    "update",
    "An indexer split, merged, reordered, rotated or removed pages of a captured "
    "document, or changed what it is proposed to be.",
)
CAPTURE_VIEW = declare(
    "capture.view",
    "read",
    "A captured page or document waiting for indexing was shown on screen.",
)
CAPTURE_MOVE = declare(
    "capture.move",
    "update",
    "A filed document was moved to another patient (a misfile corrected); the move "
    "waits for privacy review.",
)
CAPTURE_MOVE_REVIEW = declare(
    "capture.move_review",
    "update",
    "The privacy officer reviewed a misfile move: who saw the document in the wrong "
    "chart, and what was done.",
)
CAPTURE_COVER = declare(
    "capture.cover",
    "print",
    "A barcode cover sheet was printed for a patient, a visit and a document type.",
)
CAPTURE_CONFIGURE = declare(
    "capture.configure",
    "update",
    "A capture source or an auto-file threshold was changed.",
)
CAPTURE_RETRAIN = declare(
    "capture.retrain",
    "update",
    "The document-type model was retrained on the text of the documents filed.",
)

# Amendments (amendments/): a patient's request to amend their record (R-AMD)
AMENDMENT_REQUEST = declare(
    "amendment.request",
    "create",
    "A patient's request to amend their record was logged (what, why, whom to tell), "
    "or an amendment from another covered entity was received.",
)
AMENDMENT_UPDATE = declare(
    "amendment.update",
    "update",
    "An amendment request was extended once with its notice, routed to the author, "
    "or reviewed by the author.",
)
AMENDMENT_DECIDE = declare(
    "amendment.decide",
    "update",
    "An amendment request was accepted (the amendment appended to the entries), "
    "denied with its ground, or partly both.",
)
AMENDMENT_STATEMENT = declare(
    "amendment.statement",
    "create",
    "A statement of disagreement, a rebuttal, or the patient's wish that the request "
    "and denial go with later disclosures was linked to the record.",
)
AMENDMENT_LETTER = declare(
    "amendment.letter",
    "print",
    "A letter about an amendment request (extension, acceptance, denial, rebuttal, "
    "notice to a person the patient named) was produced as a PDF.",
)

# Chart completion (R-RC-1 to R-RC-7)
COMPLETION_ANALYZE = declare(
    "completion.analyze",
    "update",
    "A visit's chart was analysed and deficiencies opened, closed or reopened (ids "
    "kept).",
)
COMPLETION_ADD = declare(
    "completion.add",
    "create",
    "A specialist added a deficiency to a visit by hand.",
)
COMPLETION_REASSIGN = declare(
    "completion.reassign",
    "update",
    "A deficiency was assigned to another provider (before, after and reason kept).",
)
COMPLETION_WAIVE = declare(
    "completion.waive",
    "update",
    "A specialist waived a deficiency, with a reason.",
)
COMPLETION_REFUSE = declare(
    "completion.refuse",
    "update",
    "A provider refused a deficiency assigned to them in error, with a reason.",
)
COMPLETION_RULE = declare(
    "completion.rule",
    "update",
    "A deficiency rule was created or changed (a new version; the previous one kept).",
)
COMPLETION_LETTER = declare(
    "completion.letter",
    "create",
    "A letter to a provider about their incomplete records was written and kept (one "
    "event per patient it lists; the letter's hash kept).",
)
COMPLETION_LETTER_SEND = declare(
    "completion.letter_send",
    "export",
    "A letter to a provider was sent by e-mail, or the send failed (address, outcome).",
)
COMPLETION_SUSPENSION_LIST = declare(
    "completion.suspension_list",
    "export",
    "The suspension list for the medical staff office was read or exported (page, "
    "CSV, PDF, API, CLI).",
)
COMPLETION_VIEW = declare(
    "completion.view",
    "read",
    "Deficiencies of one or more patients were listed (API, CLI).",
)

# Coding (code sets: reference data, no PHI)
CODES_LOAD = declare(
    "coding.codes_load",
    "create",
    "A code-set release was loaded (ICD-10-CM, ICD-10-PCS, POA exempt list, MS-DRG "
    "weights), beside the releases before it.",
)

# Compliant queries (queries/): R-QRY-1 to R-QRY-5
QUERY_RAISE = declare(
    "query.raise",
    "create",
    "A query was sent to a provider about a visit's documentation, with the clinical "
    "indicators it quotes (or a verbal query documented).",
)
QUERY_ANSWER = declare(
    "query.answer",
    "update",
    "A provider answered a query; the answer went into the record as a signed "
    "document or addendum.",
)
QUERY_UPDATE = declare(
    "query.update",
    "update",
    "A query was withdrawn with a reason, escalated when unanswered, or its "
    "agreement recorded by a specialist.",
)
QUERY_DEFICIENCY = declare(
    "query.deficiency",
    "update",
    "The query-pending deficiency of a query was closed because the query was "
    "answered.",
)
