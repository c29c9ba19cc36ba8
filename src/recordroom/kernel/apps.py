from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "recordroom.kernel"
    label = "kernel"

    def ready(self) -> None:
        from .keys import check_on_start

        # A data folder holding data but not its keys is refused here, at every start
        # (CLI, web server, tests), before anything could use a wrong or empty key.
        check_on_start()

        from .tempfiles import use_private_temp_root

        # PHI never lands unencrypted in the system /tmp: every temporary file this
        # process or a library makes goes under DATA_DIR/tmp (0700).
        use_private_temp_root()
