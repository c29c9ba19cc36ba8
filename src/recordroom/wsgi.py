"""WSGI entry point for `recordroom serve` (gunicorn)."""

import os

from django.core.wsgi import get_wsgi_application

from recordroom.kernel import keys
from recordroom.kernel.files import private_umask

private_umask()  # data files readable by the service account only
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
application = get_wsgi_application()
keys.require()  # never serve without the keys the data needs
