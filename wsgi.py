"""Production WSGI entry point: ``gunicorn -c config/gunicorn.conf.py wsgi:app``."""

import gc

from scimgate import create_app

app = create_app()

# Everything built so far (modules, the app, SQLAlchemy's and marshmallow's structures: about
# 150,000 tracked objects) lives as long as the worker. Frozen, the collector's full passes skip
# them; otherwise each full collection walks them all: 70 ms of CPU in one request, every few
# thousand requests (measured in a worker: 70 ms before the freeze, 0.01 ms after).
gc.freeze()
