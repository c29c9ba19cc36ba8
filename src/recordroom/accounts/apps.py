from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "recordroom.accounts"
    label = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # After the last app migrates, so every model permission a role needs exists.
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="recordroom_roles")


def _sync_roles_after_migrate(app_config: AppConfig, **kwargs: object) -> None:
    # Deployment plumbing, not core flow: the role groups must exist after migrate.
    from django.conf import settings

    if app_config.name != settings.INSTALLED_APPS[-1]:
        return
    from .services import sync_roles

    sync_roles()
