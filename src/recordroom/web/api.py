"""The JSON API at /api/v1: routers from each app, bearer-token or session auth."""

from ninja import NinjaAPI

api = NinjaAPI(title="Recordroom API", version="1", urls_namespace="api")
