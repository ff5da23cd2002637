"""The portal's WSGI application with one more route, for bench/api_bench.py only: a bare
Django REST framework view (hello world) behind the same middleware, the throughput baseline
the open-data endpoint is compared with."""

import os

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
settings.ROOT_URLCONF = "bench.api_bench_urls"
application = get_wsgi_application()
