"""URL map: the web app, the JSON API at /api/v1, FHIR R4 with its OAuth2 token
endpoint, and the Django admin."""

from django.contrib import admin
from django.urls import include, path

from recordroom.accounts import oauth_views
from recordroom.interop.fhir import base_views as fhir_base
from recordroom.web.api import api
from recordroom.web.views_auth import admin_sign_in

admin.site.site_header = "Recordroom administration"
admin.site.site_title = "Recordroom admin"

urlpatterns = [
    # One sign-in for everything: ours throttles, audits and asks for the second
    # factor; a signed-in user who is not an administrator is refused here, no loop.
    path("admin/login/", admin_sign_in),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("oauth/token", oauth_views.token, name="oauth-token"),
    # Before the FHIR routes, whose <resource>/<id> pattern would take it.
    path(
        "fhir/R4/.well-known/smart-configuration",
        oauth_views.smart_configuration,
        name="smart-configuration",
    ),
    # The base without its slash too: APPEND_SLASH's redirect would lose a POSTed
    # transaction (clients build "[base]" from a configured URL without one).
    path("fhir/R4", fhir_base.root, name="fhir-base"),
    path("fhir/R4/", include("recordroom.interop.fhir.urls")),
    path("", include("recordroom.web.urls")),
]
