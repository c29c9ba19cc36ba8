from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "recordroom.kernel"
    label = "kernel"

    def ready(self) -> None:
        from .tempfiles import use_private_temp_root

        # PHI never lands unencrypted in the system /tmp: every temporary file this
        # process or a library makes goes under DATA_DIR/tmp (0700).
        use_private_temp_root()
