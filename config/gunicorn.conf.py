"""Production gunicorn settings: ``gunicorn -c config/gunicorn.conf.py wsgi:app``.

Every value can be overridden with ``GUNICORN_*``-style command-line flags; workers hold no state
of their own (configuration, credentials and sessions live in the database), so any number of
workers on any number of nodes can serve one database.
"""

import multiprocessing
import os

bind = os.environ.get("SCIMGATE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("SCIMGATE_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = int(os.environ.get("SCIMGATE_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Load the app in each worker after fork: no database connection is shared across processes.
preload_app = False
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("SCIMGATE_FORWARDED_ALLOW_IPS", "127.0.0.1")
