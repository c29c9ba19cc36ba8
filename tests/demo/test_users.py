"""Demo users: one per role, MFA waived (labelled), provider linked to a Provider."""

from __future__ import annotations

import pytest

from recordroom.accounts.models import User
from recordroom.accounts.roles import ROLES
from recordroom.demo import DEMO_PASSWORD, create_demo_users
from recordroom.records.models import Provider


@pytest.mark.django_db
def test_one_demo_user_per_role_and_a_rerun_keeps_them(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher"
    ]  # speed
    created = create_demo_users()
    assert {role for _u, role, _p in created} == {r.name for r in ROLES.values()}
    assert all(password == DEMO_PASSWORD for *_x, password in created)
    for username, role, _ in created:
        user = User.objects.get(username=username)
        assert user.role_names() == [role]
        assert user.mfa_waived_for_demo and not user.requires_mfa()
        assert user.check_password(DEMO_PASSWORD)
    manager = User.objects.get(username="demo-manager")
    him = User.objects.get(username="demo-him")
    assert manager.facility_ids() is None
    assert len(him.facility_ids()) == 2
    provider = Provider.objects.get(user__username="demo-provider")
    assert provider.npi
    again = create_demo_users(password="another-pass-1")
    assert len(again) == len(created)
    assert User.objects.filter(username__startswith="demo-").count() == len(created)
    assert User.objects.get(username="demo-coder").check_password("another-pass-1")


@pytest.mark.django_db
def test_the_extra_demo_providers_are_linked_to_their_own_providers(settings):
    from recordroom.demo.places import roster

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    create_demo_users()
    linked = {
        u: Provider.objects.get(user__username=u).npi
        for u in ("demo-provider", "demo-provider-2", "demo-provider-3")
    }
    assert list(linked.values()) == [p.npi for p in roster()[:3]]
    assert User.objects.get(username="demo-provider-2").role_names() == ["Provider"]
