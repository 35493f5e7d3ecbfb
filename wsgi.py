"""Production WSGI entry point: ``gunicorn -c config/gunicorn.conf.py wsgi:app``."""

from scimgate import create_app

app = create_app()
