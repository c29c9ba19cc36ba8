"""WSGI entry point for `recordroom serve` (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
application = get_wsgi_application()
