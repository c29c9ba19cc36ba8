"""`recordroom serve`: gunicorn with threaded workers, serving the WSGI app."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

# Paths only (%(U)s), never query strings: search queries hold patient names.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from recordroom.wsgi import application

        return application


def run_server(*, host: str, port: int, workers: int = 2, threads: int = 4) -> None:
    from django.conf import settings

    _Server(
        {
            # Gunicorn believes X-Forwarded-Proto only from our trusted proxies (its
            # own default trusts 127.0.0.1 whatever RECORDROOM_TRUSTED_PROXIES says).
            "forwarded_allow_ips": ",".join(settings.TRUSTED_PROXIES),
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 120,
            "graceful_timeout": 10,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "preload_app": True,
        }
    ).run()
