"""Pages of the web app (namespace "web"). Each view declares its access with
`views_common.requires`; tests/web/test_permissions.py checks every pattern here."""

from django.urls import path

from . import (
    views_auth,
    views_chart,
    views_document_search,
    views_documents,
    views_held_merges,
    views_identity,
    views_interfaces,
    views_mpi_dashboard,
    views_register,
    views_release,
    views_release_auth,
    views_release_disclosures,
    views_release_fees,
    views_release_packet,
    views_search,
)
from .amendments import views as amendment_views
from .capture import dashboard as capture_dashboard
from .capture import misfiles as capture_misfiles
from .capture import sheets as capture_sheets
from .capture import upload as capture_upload
from .capture import views as capture_views
from .completion import views as completion_views
from .inbox import views as inbox_views
from .queries import views as query_views
from .worklist import views as worklist_views

app_name = "web"
urlpatterns = [
    path("login", views_auth.login, name="login"),
    path("mfa", views_auth.mfa, name="mfa"),
    path("logout", views_auth.logout, name="logout"),
    path("healthz", views_auth.healthz, name="healthz"),
    path("", views_search.search, name="search"),
    path("patients/new", views_register.register, name="register"),
    path("patients/<uuid:patient_id>", views_chart.chart, name="chart"),
    path(
        "patients/<uuid:patient_id>/break-glass",
        views_chart.break_glass,
        name="break_glass",
    ),
    path(
        "patients/<uuid:patient_id>/access-log",
        views_chart.access_log,
        name="access_log",
    ),
    path(
        "patients/<uuid:patient_id>/documents/new",
        views_documents.upload,
        name="upload",
    ),
    path(
        "patients/<uuid:patient_id>/documents/search",
        views_document_search.chart_search,
        name="chart_document_search",
    ),
    path("search/documents", views_document_search.search, name="document_search"),
    path(
        "documents/<uuid:document_id>/pages/<int:page>",
        views_document_search.document_page,
        name="document_page",
    ),
    path("documents/<uuid:document_id>", views_documents.document, name="document"),
    path(
        "documents/<uuid:document_id>/content",
        views_documents.document_content,
        name="document_content",
    ),
    path(
        "patients/<uuid:patient_id>/cover-sheet",
        capture_sheets.cover_sheet,
        name="capture_cover_sheet",
    ),
    path(
        "documents/<uuid:document_id>/move",
        capture_misfiles.move,
        name="capture_move",
    ),
    path("capture/", capture_views.queue_list, name="capture_queue"),
    path(
        "capture/documents/<uuid:capdoc_id>",
        capture_views.document,
        name="capture_document",
    ),
    path(
        "capture/documents/<uuid:capdoc_id>/pages/<int:page>.png",
        capture_views.page_image,
        name="capture_page",
    ),
    path(
        "capture/documents/<uuid:capdoc_id>/edit",
        capture_views.edit,
        name="capture_edit",
    ),
    path(
        "capture/documents/<uuid:capdoc_id>/file",
        capture_views.file_document,
        name="capture_file",
    ),
    path(
        "capture/batches/<uuid:batch_id>/sections",
        capture_views.sections,
        name="capture_sections",
    ),
    path(
        "capture/separator-sheet",
        capture_sheets.separator_sheet,
        name="capture_separator_sheet",
    ),
    path("capture/dashboard", capture_dashboard.dashboard, name="capture_dashboard"),
    path(
        "completion/dashboard",
        completion_views.dashboard,
        name="completion_dashboard",
    ),
    path(
        "completion/suspension-list",
        completion_views.suspension,
        name="completion_suspension",
    ),
    path("completion/letters", completion_views.letters, name="completion_letters"),
    path(
        "completion/letters/<uuid:provider_letter_id>",
        completion_views.letter,
        name="completion_letter",
    ),
    path("completion/charts", completion_views.worklist, name="completion_worklist"),
    path("capture/misfiles", capture_misfiles.reviews, name="capture_misfiles"),
    path(
        "capture/misfiles/<uuid:move_id>",
        capture_misfiles.review,
        name="capture_misfile_review",
    ),
    path(
        "identity/dashboard",
        views_mpi_dashboard.dashboard,
        name="identity_dashboard",
    ),
    path("identity/duplicates", worklist_views.duplicates, name="identity_duplicates"),
    path(
        "identity/duplicates/assign",
        worklist_views.assign,
        name="identity_duplicates_assign",
    ),
    path("identity/scan", worklist_views.scan_now, name="identity_scan"),
    path("identity/merge", views_identity.merge_review, name="identity_merge"),
    path("identity/merges", views_identity.merges, name="identity_merges"),
    path(
        "identity/merges/<uuid:merge_id>/undo",
        views_identity.merge_undo,
        name="identity_merge_undo",
    ),
    path(
        "identity/held-merges",
        views_held_merges.held_merges,
        name="identity_held_merges",
    ),  # fmt: skip
    path(
        "identity/held-merges/<uuid:held_id>",
        views_held_merges.held_merge_decide,
        name="identity_held_merge_decide",
    ),  # fmt: skip
    path("identity/overlays", views_identity.overlays, name="identity_overlays"),
    path(
        "identity/overlays/<uuid:flag_id>",
        views_identity.overlay,
        name="identity_overlay",
    ),
    path("interfaces", views_interfaces.interfaces, name="interfaces"),
    path(
        "interfaces/<uuid:message_id>",
        views_interfaces.interface_message,
        name="interface_message",
    ),
    path(
        "interfaces/<uuid:message_id>/reprocess",
        views_interfaces.interface_reprocess,
        name="interface_reprocess",
    ),
    path("queries/", query_views.worklist, name="queries_worklist"),
    path("queries/new", query_views.new, name="queries_new"),
    path("queries/metrics", query_views.metrics_page, name="queries_metrics"),
    path("queries/mine", query_views.mine, name="queries_mine"),
    path("queries/mine/<uuid:query_id>", query_views.answer, name="queries_answer"),
    path("queries/<uuid:query_id>", query_views.query_page, name="queries_query"),
    path("queries/<uuid:query_id>/withdraw", query_views.withdraw,
         name="queries_withdraw"),
    path("queries/<uuid:query_id>/agreement", query_views.agreement,
         name="queries_agreement"),
    path("amendments/", amendment_views.worklist, name="amendments_worklist"),
    path("amendments/new", amendment_views.intake, name="amendments_intake"),
    path(
        "amendments/<uuid:amendment_id>",
        amendment_views.request_page,
        name="amendments_request",
    ),
    path(
        "amendments/letters/<uuid:amendment_letter_id>",
        amendment_views.letter,
        name="amendments_letter",
    ),
    path(
        "amendments/<uuid:amendment_id>/extend",
        amendment_views.extend,
        name="amendments_extend",
    ),
    path(
        "amendments/<uuid:amendment_id>/route",
        amendment_views.route,
        name="amendments_route",
    ),
    path(
        "amendments/<uuid:amendment_id>/review",
        amendment_views.review,
        name="amendments_review",
    ),
    path(
        "amendments/<uuid:amendment_id>/decide",
        amendment_views.decide,
        name="amendments_decide",
    ),
    path(
        "amendments/<uuid:amendment_id>/disagreement",
        amendment_views.disagreement,
        name="amendments_disagreement",
    ),
    path(
        "amendments/<uuid:amendment_id>/rebuttal",
        amendment_views.rebuttal,
        name="amendments_rebuttal",
    ),
    path(
        "amendments/<uuid:amendment_id>/include",
        amendment_views.include,
        name="amendments_include",
    ),
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/pass", inbox_views.start_pass, name="inbox_pass"),
    path("inbox/pass/stop", inbox_views.stop_pass, name="inbox_pass_stop"),
    path(
        "inbox/deficiencies/<uuid:deficiency_id>",
        inbox_views.item,
        name="inbox_item",
    ),
    path(
        "inbox/deficiencies/<uuid:deficiency_id>/sign",
        inbox_views.sign,
        name="inbox_sign",
    ),
    path(
        "inbox/deficiencies/<uuid:deficiency_id>/skip",
        inbox_views.skip,
        name="inbox_skip",
    ),
    path(
        "inbox/deficiencies/<uuid:deficiency_id>/refuse",
        inbox_views.refuse,
        name="inbox_refuse",
    ),
    path(
        "inbox/deficiencies/<uuid:deficiency_id>/file",
        inbox_views.file_document,
        name="inbox_file",
    ),
    path("capture/upload", capture_upload.upload, name="capture_upload"),
    path(
        "capture/upload/batches",
        capture_upload.upload_batches,
        name="capture_upload_batches",
    ),
    path("release/", views_release.worklist, name="release_worklist"),
    path("release/new", views_release.intake, name="release_intake"),
    path(
        "release/<uuid:request_id>",
        views_release.request_page,
        name="release_request",
    ),
    path(
        "release/<uuid:request_id>/status",
        views_release.request_status,
        name="release_status",
    ),
    path(
        "release/<uuid:request_id>/verify",
        views_release.request_verify,
        name="release_verify",
    ),
    path(
        "release/<uuid:request_id>/extend",
        views_release.request_extend,
        name="release_extend",
    ),
    path(
        "release/<uuid:request_id>/change",
        views_release.request_change,
        name="release_change",
    ),
    path(
        "release/<uuid:request_id>/authorizations/new",
        views_release_auth.authorization_new,
        name="release_authorization_new",
    ),
    path(
        "release/<uuid:request_id>/authorizations/<uuid:auth_id>",
        views_release_auth.authorization,
        name="release_authorization",
    ),
    path(
        "release/<uuid:request_id>/authorizations/<uuid:auth_id>/revoke",
        views_release_auth.authorization_revoke,
        name="release_authorization_revoke",
    ),
    path(
        "release/<uuid:request_id>/defect-letter",
        views_release_auth.defect_letter,
        name="release_defect_letter",
    ),
    path(
        "release/<uuid:request_id>/letters",
        views_release_auth.letter_new,
        name="release_letter_new",
    ),
    path(
        "release/letters/<uuid:letter_id>",
        views_release_auth.letter_content,
        name="release_letter",
    ),
    path(
        "release/<uuid:request_id>/deny", views_release_auth.deny, name="release_deny"
    ),
    path(
        "release/<uuid:request_id>/denials/<uuid:denial_id>/review",
        views_release_auth.denial_review,
        name="release_denial_review",
    ),
    path(
        "release/<uuid:request_id>/invoices",
        views_release_fees.invoice_new,
        name="release_invoice_new",
    ),
    path(
        "release/<uuid:request_id>/invoices/<uuid:invoice_id>",
        views_release_fees.invoice_step,
        name="release_invoice_step",
    ),
    path(
        "release/patients/<uuid:patient_id>/disclosures",
        views_release_disclosures.disclosures,
        name="release_disclosures",
    ),
    path(
        "release/patients/<uuid:patient_id>/disclosures/new",
        views_release_disclosures.disclosure_new,
        name="release_disclosure_new",
    ),
    path(
        "release/patients/<uuid:patient_id>/accounting-suspensions",
        views_release_disclosures.suspension_new,
        name="release_suspension_new",
    ),
    path(
        "release/disclosures/<uuid:entry_id>/correct",
        views_release_disclosures.disclosure_correct,
        name="release_disclosure_correct",
    ),
    path(
        "release/patients/<uuid:patient_id>/accounting-requests",
        views_release_disclosures.accounting_new,
        name="release_accounting_new",
    ),
    path(
        "release/accounting-requests/<uuid:accounting_id>",
        views_release_disclosures.accounting_step,
        name="release_accounting_step",
    ),
    path(
        "release/accounting-requests/<uuid:accounting_id>/letter",
        views_release_disclosures.accounting_letter,
        name="release_accounting_letter",
    ),
    path(
        "release/<uuid:request_id>/scope",
        views_release_packet.select,
        name="release_scope",
    ),
    path(
        "release/<uuid:request_id>/items/<int:item_id>",
        views_release_packet.item_page,
        name="release_item",
    ),
    path(
        "release/<uuid:request_id>/items/<int:item_id>/pages/<int:page>.png",
        views_release_packet.item_preview,
        name="release_item_preview",
    ),
    path(
        "release/<uuid:request_id>/items/<int:item_id>/pages",
        views_release_packet.item_pages,
        name="release_item_pages",
    ),
    path(
        "release/<uuid:request_id>/items/<int:item_id>/redactions",
        views_release_packet.item_redact,
        name="release_item_redact",
    ),
    path(
        "release/<uuid:request_id>/items/<int:item_id>/redactions/<int:redaction_id>/remove",
        views_release_packet.redaction_remove,
        name="release_redaction_remove",
    ),
    path(
        "release/<uuid:request_id>/items/<int:item_id>/inclusion",
        views_release_packet.item_include,
        name="release_item_include",
    ),
    path(
        "release/<uuid:request_id>/packets",
        views_release_packet.build,
        name="release_packet_build",
    ),
    path(
        "release/<uuid:request_id>/packets/<uuid:packet_id>",
        views_release_packet.packet_content,
        name="release_packet",
    ),
    path(
        "release/<uuid:request_id>/review",
        views_release_packet.quality_review,
        name="release_review",
    ),
    path(
        "release/<uuid:request_id>/release",
        views_release_packet.release,
        name="release_release",
    ),
    path(
        "release/<uuid:request_id>/links",
        views_release_packet.link_new,
        name="release_link_new",
    ),
    path(
        "release/<uuid:request_id>/links/<uuid:link_id>/revoke",
        views_release_packet.link_revoke,
        name="release_link_revoke",
    ),
    path(
        "release/<uuid:request_id>/deliveries",
        views_release_packet.log_delivery,
        name="release_delivery",
    ),
    path(
        "release/download/<str:token>",
        views_release_packet.download,
        name="release_download",
    ),
]
