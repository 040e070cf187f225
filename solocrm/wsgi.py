"""WSGI entry point used by `solocrm serve` (waitress)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "solocrm.settings")
application = get_wsgi_application()
