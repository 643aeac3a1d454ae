import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saleor_license_plugin.server.settings")
application = get_wsgi_application()
