"""WSGI entry point: the production HTTP tier (gunicorn workers, README "Running in production"); websockets
(/ws/) are served by the ASGI entry point, config.asgi, behind a proxy that routes by path (deploy/nginx.conf).

A WSGI worker thread lives as long as its process and serves request after request, so it keeps its
PostgreSQL connection (`DB_CONN_MAX_AGE`, 60 s here unless set): bench/intake.py measured the per-request
connection at about half the cost of a cheap request. Under ASGI (config.asgi) the default stays 0."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
application = get_wsgi_application()
