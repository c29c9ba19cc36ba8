from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "recordroom.accounts"
    label = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles_after_migrate, sender=self)


def _sync_roles_after_migrate(**kwargs: object) -> None:
    # Deployment plumbing, not core flow: the role groups must exist after migrate.
    from .services import sync_roles

    sync_roles()
