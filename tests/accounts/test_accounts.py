"""Users, roles, sign-in throttling, TOTP second factor, API tokens (R-SEC-1, R-SEC-4)."""

from datetime import timedelta

import pyotp
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from recordroom.accounts import services
from recordroom.accounts.models import ApiToken, RolePolicy, TotpDevice
from recordroom.accounts.roles import ADMIN_MODEL_PERMISSIONS, ROLES
from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from tests import factories
from tests.web.conftest import signed_in

PASSWORD = "correct horse battery 9"


def test_every_role_exists_with_its_permissions(db):
    for role in ROLES.values():
        group = Group.objects.get(name=role.name)
        capabilities = group.permissions.filter(content_type__model="capability")
        assert {p.codename for p in capabilities} == set(role.permissions)
        models = {f"{p.content_type.app_label}.{p.codename}" for p in
                  group.permissions.exclude(content_type__model="capability")}  # fmt: skip
        assert bool(models & set(ADMIN_MODEL_PERMISSIONS)) == role.admin_site
        assert models - set(ADMIN_MODEL_PERMISSIONS) == set(role.model_permissions)
    assert ROLES["him_manager"].model_permissions == ("mpi.override_merge_rules",)
    assert RolePolicy.objects.get(group__name="Administrator").require_mfa is True
    assert RolePolicy.objects.get(group__name="Coder").require_mfa is False


def test_administrators_manage_configuration_but_see_no_phi(db):
    from recordroom.accounts.permissions import has

    admin = factories.user("root2", "administrator")
    assert admin.is_staff and not admin.is_superuser
    assert admin.has_perm("mpi.change_facility") and has(admin, "manage_users")
    assert not has(admin, "view_chart") and not has(admin, "search_patients")


def test_a_django_superuser_flag_grants_no_capability(db, him):
    from recordroom.accounts.permissions import has

    him.is_superuser = True
    him.save()
    assert has(him, "view_chart") and not has(him, "view_audit")


def test_passwords_are_argon2(db, him):
    assert him.password.startswith("argon2")


def test_unknown_role_is_named(db):
    with pytest.raises(ValidationFailed, match="unknown role 'wizard'"):
        services.create_user(actor=factories.SYSTEM, username="x", role="wizard")


def test_r_sec_1_failed_logins_are_throttled_and_audited(db, him, settings):
    settings.LOGIN_MAX_FAILURES = 3
    actor = factories.SYSTEM
    for _ in range(3):
        assert services.sign_in(actor=actor, username="him1", password="nope").error
    result = services.sign_in(actor=actor, username="him1", password=PASSWORD)
    assert result.user is None and "Too many failed sign-ins" in result.error
    events = AuditEvent.objects.filter(action="auth.login_failed")
    assert events.count() == 4 and '"reason":"throttled"' in events.last().detail


def test_r_sec_1_administrator_needs_a_second_factor(db):
    admin = factories.user("root1", "administrator")
    result = services.sign_in(
        actor=factories.SYSTEM, username="root1", password=PASSWORD
    )
    assert result.needs_second_factor and result.needs_enrolment
    services.start_totp_enrolment(user=admin)
    code = pyotp.TOTP(services.totp_secret(admin)).now()
    assert services.check_totp(actor=factories.SYSTEM, user=admin, code=code)
    assert TotpDevice.objects.get(user=admin).confirmed
    # the same code cannot be replayed
    assert not services.check_totp(actor=factories.SYSTEM, user=admin, code=code)
    assert AuditEvent.objects.filter(action="auth.mfa_enrolled").count() == 1


def test_demo_waiver_skips_the_second_factor(db):
    services.create_user(
        actor=factories.SYSTEM,
        username="demo-admin",
        role="administrator",
        password=PASSWORD,
        demo=True,
    )
    result = services.sign_in(
        actor=factories.SYSTEM, username="demo-admin", password=PASSWORD
    )
    assert result.user is not None and not result.needs_second_factor


def test_api_token_is_stored_hashed_and_resolves(db, him):
    row, token = services.create_token(
        actor=factories.SYSTEM, username="him1", name="ci"
    )
    assert token.startswith("rr_") and token not in row.digest
    assert ApiToken.objects.get().digest != token
    assert services.user_for_token(token) == him


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t, row: t[:-1] + ("A" if t[-1] != "A" else "B"), "not valid"),
        (lambda t, row: "garbage", "malformed"),
    ],
)
def test_bad_tokens_are_refused_with_the_reason(db, him, mutate, message):
    row, token = services.create_token(actor=factories.SYSTEM, username="him1")
    with pytest.raises(PermissionDenied, match=message):
        services.user_for_token(mutate(token, row))


def test_revoked_and_expired_tokens_are_refused(db, him):
    row, token = services.create_token(actor=factories.SYSTEM, username="him1", days=1)
    ApiToken.objects.filter(pk=row.pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    with pytest.raises(PermissionDenied, match="expired"):
        services.user_for_token(token)
    row2, token2 = services.create_token(actor=factories.SYSTEM, username="him1")
    services.revoke_token(actor=factories.SYSTEM, prefix=row2.prefix)
    with pytest.raises(PermissionDenied, match="revoked"):
        services.user_for_token(token2)


def test_weak_passwords_are_refused_with_the_reason(db):
    from recordroom.accounts.models import User

    with pytest.raises(ValidationFailed, match="password refused: .*too short"):
        services.create_user(
            actor=factories.SYSTEM, username="weak", role="coder", password="abc"
        )
    assert not User.objects.filter(username="weak").exists()


def test_an_administrator_edits_the_name_and_job_title_letters_are_signed_with(db):
    admin = factories.user("chief", "administrator")
    clerk = factories.user("mferreira", "roi_specialist")
    page = signed_in(admin).get(f"/admin/accounts/user/{clerk.pk}/change/")
    assert page.status_code == 200
    assert 'name="job_title"' in page.content.decode()
