from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "recordroom.kernel"
    label = "kernel"

    def ready(self) -> None:
        from .keys import check_on_start

        # A data folder holding data but not its keys is refused here, at every start
        # (CLI, web server, tests), before anything could use a wrong or empty key.
        check_on_start()
