"""The records app's JSON API: patients (search, registration, chart pages, uploads) and
documents (metadata, content, versions, status, signatures)."""

from ninja import Router

from . import documents, patients

router = Router()
router.add_router("", patients.router)
router.add_router("", documents.router)

__all__ = ["router"]
