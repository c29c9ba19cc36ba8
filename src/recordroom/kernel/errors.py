"""Domain errors: each says what was wrong, with the offending value, and what to do."""

from __future__ import annotations


class RecordroomError(Exception):
    """Base of every error a user can be shown. `code` is stable for API clients."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(RecordroomError):
    code = "invalid"
    status = 422


class NotFound(RecordroomError):
    code = "not_found"
    status = 404


class PermissionDenied(RecordroomError):
    """A refused attempt. Adapters audit it where they turn it into a 403 (or into a
    404, raised while handling it, where a 403 would reveal that a record exists):
    `patient_id` names the patient when known; `audited` is set once it is recorded."""

    code = "forbidden"
    status = 403

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        patient_id: object = None,
        audited: bool = False,
    ) -> None:
        super().__init__(message, field=field)
        self.patient_id = patient_id
        self.audited = audited


class Conflict(RecordroomError):
    code = "conflict"
    status = 409


class IntegrityFailure(RecordroomError):
    """Stored content no longer matches its hash, or is missing: never served."""

    code = "integrity_error"
    status = 500


class TooLarge(RecordroomError):
    code = "too_large"
    status = 413
