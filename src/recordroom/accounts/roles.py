"""Roles and their permissions, declared once as data (DESIGN.md: who uses it).

Roles are Django groups; a data migration creates them from this table, and an
administrator may change a group's permissions in the admin afterwards. Permissions
are `recordroom` capabilities, independent of models, checked with `user.has_perm`.
"""

from __future__ import annotations

from dataclasses import dataclass

# capability codename -> what it allows
PERMISSIONS: dict[str, str] = {
    "search_patients": "Search the patient index",
    "view_chart": "Open a patient's chart (demographics, encounters, document list)",
    "view_document": "Read, download and print documents",
    "add_document": "File documents and new versions",
    "edit_demographics": "Register patients and change demographics",
    "sign_document": "Sign documents as their author or authenticator",
    "change_document_status": "Change document status (e.g. entered in error)",
    "view_access_log": "See who accessed a patient's record",
    "view_audit": "Read and export the whole audit trail",
    "manage_users": "Manage users, roles, facilities and document types",
    "view_interfaces": "See interface messages (HL7 v2), their status and errors",
    "reprocess_messages": "Reprocess interface messages that ended in error",
    "manage_identity": (
        "Merge, unmerge and split patient records; work the duplicate and overlay "
        "worklists"
    ),
    "release_records": (
        "Work release-of-information requests: intake, authorizations, scoping, "
        "redaction, packets, letters, fees, delivery"
    ),
    "review_releases": "Quality-review a release packet before it goes out",
    "account_disclosures": (
        "Record disclosures and produce a patient's accounting of disclosures"
    ),
    "index_documents": (
        "Work the indexing queue: split, merge, reorder, rotate and remove scanned "
        "pages, and file scanned documents into charts"
    ),
    "supervise_capture": (
        "See the capture dashboard: pages received, filed and waiting, per source "
        "and indexer"
    ),
    "move_documents": "Move a filed document to another patient (a misfile corrected)",
    "review_misfiles": (
        "Review misfiled documents that were moved, and who saw them in the wrong chart"
    ),
    "print_cover_sheets": "Print barcode cover sheets for a patient's paper",
    "capture_documents": (
        "Bring in scanned paper, faxes and outside records for capture (upload, "
        "import, watched folders) and follow their batches"
    ),
    "complete_charts": (
        "Work chart completion: analyse charts, add, reassign and waive deficiencies, "
        "read the delinquency rate"
    ),
    "raise_queries": (
        "Send compliant queries to providers about a chart's documentation, withdraw "
        "them, work the query worklist and read the query metrics"
    ),
}


# What the Django admin needs to manage configuration: model permissions
# "app_label.action_model". None of these models holds PHI.
ADMIN_MODEL_PERMISSIONS: tuple[str, ...] = tuple(
    f"{app}.{action}_{model}"
    for app, model, actions in (
        ("accounts", "user", ("add", "change", "view")),
        ("accounts", "rolepolicy", ("change", "view")),
        ("accounts", "apitoken", ("change", "view")),
        ("accounts", "apiclient", ("change", "view")),
        ("accounts", "labelpolicy", ("change", "view")),
        ("accounts", "labelgrant", ("add", "change", "delete", "view")),
        ("auth", "group", ("add", "change", "view")),
        ("mpi", "facility", ("add", "change", "view")),
        ("records", "provider", ("add", "change", "view")),
        ("records", "documenttype", ("add", "change", "view")),
        ("records", "organization", ("add", "change", "view")),
        ("interop", "importrun", ("view",)),
        ("interop", "quarantineitem", ("change", "view")),
        ("release", "deadlinerule", ("add", "change", "view")),
        ("release", "feeschedule", ("add", "change", "view")),
        ("completion", "deficiencyrule", ("add", "change", "view")),
        ("completion", "providerstanding", ("add", "change", "view")),
        ("queries", "querytemplate", ("add", "change", "view")),
    )
    for action in actions
)


# Rights held as a model permission of the app that checks them ("app.codename"),
# not as a capability: what each allows, and the roles that get them when created.
MODEL_PERMISSIONS: dict[str, str] = {
    "mpi.override_merge_rules": (
        "Merge two records past a merge rule (twins, junior/senior, two SSNs), "
        "giving a reason (audited)"
    ),
}
MODEL_PERMISSION_ROLES: dict[str, tuple[str, ...]] = {
    "mpi.override_merge_rules": ("him_manager",),
}


@dataclass(frozen=True)
class Role:
    key: str
    name: str
    permissions: frozenset[str]
    require_mfa: bool = False
    # may use the Django admin (is_staff + ADMIN_MODEL_PERMISSIONS)
    admin_site: bool = False

    @property
    def model_permissions(self) -> tuple[str, ...]:
        return tuple(
            p for p, keys in MODEL_PERMISSION_ROLES.items() if self.key in keys
        )


def _role(
    key: str, name: str, *perms: str, mfa: bool = False, admin_site: bool = False
) -> Role:
    unknown = set(perms) - PERMISSIONS.keys()
    if unknown:
        raise ValueError(f"role {key} names unknown permissions {sorted(unknown)}")
    return Role(key, name, frozenset(perms), mfa, admin_site)


_READ = ("search_patients", "view_chart", "view_document")
# the indexing queue, misfile moves and cover sheets (capture)
_CAPTURE = ("index_documents", "move_documents", "print_cover_sheets")

ROLES: dict[str, Role] = {
    r.key: r
    for r in (
        _role(
            "him_specialist",
            "HIM specialist",
            *_READ,
            "add_document",
            "edit_demographics",
            "change_document_status",
            "view_interfaces",
            "reprocess_messages",
            "manage_identity",
            *_CAPTURE,
            "capture_documents",
            "complete_charts",
            "raise_queries",
        ),
        _role(
            "roi_specialist",
            "ROI specialist",
            *_READ,
            "release_records",
            "review_releases",
            "account_disclosures",
        ),
        _role("coder", "Coder", *_READ, "raise_queries"),
        _role("cdi_specialist", "CDI specialist", *_READ, "raise_queries"),
        _role(
            "provider",
            "Provider",
            *_READ,
            "add_document",
            "sign_document",
            "print_cover_sheets",
        ),
        _role(
            "privacy_officer",
            "Privacy officer",
            *_READ,
            "view_access_log",
            "view_audit",
            "account_disclosures",
            "review_misfiles",
        ),
        _role(
            "him_manager",
            "HIM manager",
            *_READ,
            "view_access_log",
            "change_document_status",
            "view_interfaces",
            "manage_identity",
            "release_records",
            "review_releases",
            "account_disclosures",
            *_CAPTURE,
            "supervise_capture",
            "capture_documents",
            "complete_charts",
            "raise_queries",
        ),
        _role("auditor", "Auditor", "view_audit", "view_access_log", "search_patients"),
        _role(
            "administrator",
            "Administrator",
            "manage_users",
            "view_interfaces",
            "reprocess_messages",
            mfa=True,
            admin_site=True,
        ),
    )
}


def role_by_name(name: str) -> Role | None:
    return next((r for r in ROLES.values() if r.name == name), None)
