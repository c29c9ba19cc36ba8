from django.urls import path

from . import base_views, bulk_views, history_views, views

urlpatterns = [
    path("", base_views.root, name="fhir-root"),
    path("metadata", views.metadata, name="fhir-metadata"),
    path("$export", bulk_views.system_export, name="fhir-export"),
    path("Patient/$export", bulk_views.patient_export, name="fhir-patient-export"),
    path("Group/<str:gid>/$export", bulk_views.group_export, name="fhir-group-export"),
    path("$export-status/<str:job_id>", bulk_views.status, name="fhir-export-status"),
    path(
        "$export-file/<str:job_id>/<str:rtype>.ndjson",
        bulk_views.download,
        name="fhir-export-file",
    ),
    path("Binary/<str:rid>", views.binary, name="fhir-binary"),
    path("Patient/<str:rid>/$everything", views.everything, name="fhir-everything"),
    path("<str:resource>", views.search, name="fhir-search"),
    path("<str:resource>/<str:rid>", views.read, name="fhir-read"),
    path(
        "<str:resource>/<str:rid>/_history", history_views.history, name="fhir-history"
    ),
    path(
        "<str:resource>/<str:rid>/_history/<str:vid>",
        history_views.vread,
        name="fhir-vread",
    ),  # fmt: skip
]
