from django.urls import path

from . import views

urlpatterns = [
    path("", views.root, name="fhir-root"),
    path("metadata", views.metadata, name="fhir-metadata"),
    path("Binary/<str:rid>", views.binary, name="fhir-binary"),
    path("Patient/<str:rid>/$everything", views.everything, name="fhir-everything"),
    path("<str:resource>", views.search, name="fhir-search"),
    path("<str:resource>/<str:rid>", views.read, name="fhir-read"),
]
