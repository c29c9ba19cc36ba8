"""The records app's JSON API: patients (search, registration, chart pages, uploads),
documents (metadata, content, versions, status, signatures) and search inside them."""

from ninja import Router

from . import documents, patients, search

router = Router()
# Search first: "/documents/search" would otherwise be taken for a document id.
router.add_router("", search.router)
router.add_router("", patients.router)
router.add_router("", documents.router)

__all__ = ["router"]
