"""The FHIR base: POST [base] takes a transaction or batch Bundle; its GET entries
are read after its writes, each through the same view (scope, audit, errors) as
the same GET on its own."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction as db_transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, resolve

from recordroom.audit.refusals import audit_refusal
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError

from . import write_views
from .params import Invalid
from .views import FHIR_JSON, answer, fhir_response, fhir_view, outcome

PREFIX = "/fhir/R4/"
# Headers of the Bundle's request that are not the entry's own.
NOT_PASSED_ON = ("HTTP_PREFER", "HTTP_IF_MATCH", "HTTP_IF_NONE_EXIST", "CONTENT_TYPE",
                 "CONTENT_LENGTH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")  # fmt: skip


class ReadFailed(RecordroomError):
    """A GET entry of a transaction failed: the transaction fails with it."""

    def __init__(
        self, status: int, message: str, path: str, cause: Exception | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.path = path
        self.cause = cause


@fhir_view("POST")
def root(request: HttpRequest, actor: Actor) -> HttpResponse:
    """POST a transaction or batch Bundle."""
    if request.method != "POST":
        raise Invalid("GET on the base (whole-system search) is not supported; "
                      "search a resource type")  # fmt: skip
    base = request.build_absolute_uri(PREFIX)
    body = write_views.parse_body(request)
    strict = body.get("type") == "transaction"

    def read(n: int, url: str) -> dict[str, Any]:
        return _read_entry(request, actor, n, url, base, strict=strict)

    try:
        with db_transaction.atomic():  # a transaction's failed read undoes its writes
            return fhir_response(write_views.transaction(actor, body, base, read))
    except ReadFailed as exc:
        if exc.cause is not None:  # a refused read is audited (never a nonexistent one)
            audit_refusal(actor=actor, exc=exc.cause, path=exc.path)
        raise


def _read_entry(
    request: HttpRequest, actor: Actor, n: int, url: str, base: str, *, strict: bool
) -> dict[str, Any]:
    """The response entry of `GET url` (a read, vread, history or search)."""
    path, _, query = (url[len(base):] if url.startswith(base) else url).partition("?")  # fmt: skip
    path = PREFIX + path.lstrip("/").removeprefix(PREFIX.lstrip("/"))
    try:
        match = resolve(path)
        view = match.func.view  # type: ignore[attr-defined]
        if urlsplit(url).scheme and not url.startswith(base) or view.__name__ not in (
                "read", "vread", "history", "search", "everything"):  # fmt: skip
            raise Resolver404
    except (Resolver404, AttributeError):
        return _failed(n, 400, f"Bundle.entry[{n}].request.url {url!r} is not a read "
                       "or search of this server", strict, path)  # fmt: skip
    sub = _sub_request(request, path, query)
    if not strict:
        resp = answer(view, sub, actor, *match.args, **match.kwargs)
    else:  # its error fails the transaction, audited once the writes are undone
        try:
            resp = view(sub, actor, *match.args, **match.kwargs)
        except RecordroomError as exc:
            raise ReadFailed(exc.status if exc.status != 422 else 400,
                             f"entry {n} (GET): {exc.message}", path, exc) from exc  # fmt: skip
    assert isinstance(resp, HttpResponse)  # FHIR JSON (Accept set above)
    body = json.loads(resp.content)
    if resp.status_code >= 400:
        return _failed(n, resp.status_code, body["issue"][0]["diagnostics"], strict,
                       path, outcome_body=body)  # fmt: skip
    response: dict[str, Any] = {"status": f"{resp.status_code} {resp.reason_phrase}"}
    if resp.has_header("ETag"):
        response["etag"] = resp["ETag"]
    if body.get("resourceType") != "Bundle" and body.get("id"):
        rid = f"{body['resourceType']}/{body['id']}"
        return {"fullUrl": f"{base}{rid}", "resource": body, "response": response}
    return {"resource": body, "response": response}


def _sub_request(request: HttpRequest, path: str, query: str) -> HttpRequest:
    sub = HttpRequest()
    sub.method = "GET"
    sub.path = sub.path_info = path
    sub.META = {k: v for k, v in request.META.items() if k not in NOT_PASSED_ON}
    sub.META.update(REQUEST_METHOD="GET", QUERY_STRING=query, HTTP_ACCEPT=FHIR_JSON)
    sub.GET = QueryDict(query)
    sub.request_id = getattr(request, "request_id", "")  # type: ignore[attr-defined]
    return sub


def _failed(
    n: int, status: int, message: str, strict: bool, path: str,
    outcome_body: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    if strict:
        raise ReadFailed(status, f"entry {n} (GET): {message}", path)
    if outcome_body is None:
        outcome_body = json.loads(outcome(status, "invalid", message).content)
    line = f"{status} {HttpResponse(status=status).reason_phrase}"
    return {"response": {"status": line, "outcome": outcome_body}}
