"""Sign-in (password, then the TOTP second factor where the role requires it),
sign-out, and the readiness check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from recordroom.accounts import services as accounts
from recordroom.accounts.models import User
from recordroom.accounts.permissions import has
from recordroom.kernel.blobs import default_store, writable_problem
from recordroom.kernel.errors import PermissionDenied
from recordroom.web.middleware import SESSION_MFA_OK, SESSION_PENDING_USER
from recordroom.web.request import actor_from_request

from .views_common import PUBLIC, SIGNED_IN, error_page, requires

# Session keys that live only between the password and the second factor.
_PENDING_NEXT = "recordroom_pending_next"
_PENDING_ENROL = "recordroom_pending_enrol"
_ENROL_URI = "recordroom_enrol_uri"
_TRIES = "recordroom_mfa_tries"
_PENDING_KEYS = (
    SESSION_PENDING_USER,
    _PENDING_NEXT,
    _PENDING_ENROL,
    _ENROL_URI,
    _TRIES,
)


class SignInForm(forms.Form):
    username = forms.CharField(
        label="User name",
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code",
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autofocus": True,
            }
        ),
    )


def _safe_next(request: HttpRequest, target: str) -> str:
    ok = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and ok else ""


def _home(user: Any) -> str:
    """Where a user lands after sign-in: search, or the admin for administrators."""
    if not has(user, "search_patients") and user.is_staff:
        return "admin:index"
    return "web:search"


def _finish(request: HttpRequest, user: User, *, second_factor: bool, nxt: str) -> Any:
    auth_login(request, user)
    for key in _PENDING_KEYS:
        request.session.pop(key, None)
    request.session[SESSION_MFA_OK] = True
    accounts.complete_sign_in(
        actor=actor_from_request(request), second_factor=second_factor
    )
    return redirect(nxt or _home(user))


@requires(PUBLIC)
def login(request: HttpRequest) -> HttpResponse:
    nxt = _safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.user.is_authenticated:
        return redirect(nxt or _home(request.user))
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result = accounts.sign_in(
            actor=actor_from_request(request),
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            request=request,
        )
        if result.user is None:
            error = result.error
        elif result.needs_second_factor:
            request.session.cycle_key()  # no session fixation across the two steps
            request.session[SESSION_PENDING_USER] = str(result.user.pk)
            request.session[_PENDING_NEXT] = nxt
            request.session[_PENDING_ENROL] = result.needs_enrolment
            request.session[_TRIES] = 0
            return redirect("web:mfa")
        else:
            return _finish(request, result.user, second_factor=False, nxt=nxt)
    return render(
        request, "web/login.html", {"form": form, "error": error, "next": nxt}
    )


@requires(PUBLIC)
def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """Where the Django admin sends whoever it refuses.

    A visitor signs in through our sign-in (throttled, audited, second factor). A
    signed-in user who is not an administrator gets a 403 page saying so: sending
    them to sign in again would come straight back here, a redirect loop.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect(f"{reverse('web:login')}?next={reverse('admin:index')}")
    # The same refusal page as any page's, audited as access.denied.
    return error_page(
        request,
        PermissionDenied(
            "The administration pages are for administrators. You are signed "
            f"in as {user.get_username()}, whose role does not include them."
        ),
    )


def _pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(SESSION_PENDING_USER)
    if not user_id:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return mark_safe(image.to_string(encoding="unicode"))  # our own markup, no input


@requires(PUBLIC)
def mfa(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        messages.info(request, "Sign in with your user name and password first.")
        return redirect("web:login")
    enrolling = bool(request.session.get(_PENDING_ENROL))
    if enrolling and not request.session.get(_ENROL_URI):
        # Kept for this sign-in only, so a mistyped code does not change the QR code.
        request.session[_ENROL_URI] = accounts.start_totp_enrolment(user=user)
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        actor = actor_from_request(request, user=user)
        if accounts.check_totp(actor=actor, user=user, code=form.cleaned_data["code"]):
            nxt = request.session.get(_PENDING_NEXT, "")
            return _finish(request, user, second_factor=True, nxt=nxt)
        tries = int(request.session.get(_TRIES, 0)) + 1
        request.session[_TRIES] = tries
        if tries >= settings.LOGIN_MAX_FAILURES:
            for key in _PENDING_KEYS:
                request.session.pop(key, None)
            messages.error(
                request,
                f"{tries} wrong codes in a row: sign in again with your password.",
            )
            return redirect("web:login")
        error = (
            "That code is not correct or was already used. Enter the 6-digit code your "
            "authenticator app shows now."
        )
    uri = request.session.get(_ENROL_URI, "") if enrolling else ""
    context = {
        "form": form,
        "error": error,
        "pending_username": user.username,
        "enrolling": enrolling,
        "otpauth_uri": uri,
        "qr_svg": _qr_svg(uri) if uri else "",
    }
    return render(request, "web/mfa.html", context)


@requires(SIGNED_IN)
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    accounts.sign_out(actor=actor_from_request(request))
    auth_logout(request)
    messages.info(request, "You have signed out.")
    return redirect("web:login")


@requires(PUBLIC)
def healthz(request: HttpRequest) -> HttpResponse:
    """Readiness: the database answers and the data folder and blob store take writes.

    A 503 names each problem (never PHI), so a load balancer stops sending work to a
    server that would fail every upload or sign-in.
    """
    problems = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # readiness: any database failure means not ready
        problems.append(f"database unavailable: {type(exc).__name__}")
    problems += [
        p
        for p in (
            writable_problem(Path(settings.DATA_DIR)),
            default_store().writable(),
        )
        if p
    ]
    if problems:
        return HttpResponse("\n".join(problems), status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
