"""ASGI entry point (for servers that prefer it)."""

import os

from django.core.asgi import get_asgi_application

from recordroom.kernel import keys
from recordroom.kernel.files import private_umask

private_umask()  # data files readable by the service account only
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
application = get_asgi_application()
keys.require()  # never serve without the keys the data needs
