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


# /metrics under several workers (scimgate.db.metrics): with PROMETHEUS_MULTIPROC_DIR set, each
# worker keeps its counters in files there and a scrape merges them. The directory must be empty
# when the server starts (files left by an earlier run would be counted again), and a worker that
# exits is marked dead so its live gauges go. Without the variable every worker counts on its own.
def on_starting(server):
    """Empty the metrics directory before the first worker starts (only its ``*.db`` files)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    """Drop a dead worker's live gauges from what /metrics merges (its counters stay counted)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
