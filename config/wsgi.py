import os

from django.core.wsgi import get_wsgi_application

from config.db_settings import WEB_PROCESS_VARIABLE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before the settings load: web requests get a statement timeout (config/db_settings.py).
os.environ[WEB_PROCESS_VARIABLE] = "1"
application = get_wsgi_application()
