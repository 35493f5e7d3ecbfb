"""scimgate's production app as the bench serves it: ``wsgi:app`` plus two things the bench needs.

1. Engine options from ``BENCH_ENGINE_OPTIONS`` (JSON), merged over the configuration's own
   ``SQLALCHEMY_ENGINE_OPTIONS``: ``SCIMGATE_*`` variables only carry strings and numbers, and behind
   PgBouncer in transaction mode psycopg must not prepare statements server-side
   (``{"connect_args": {"prepare_threshold": null}}``).
2. A count of the SQL statements the worker sends (a SQLAlchemy ``before_cursor_execute`` listener),
   kept in an 8-byte memory-mapped file per worker under ``BENCH_SQLCOUNT_DIR`` (one per pid), so the
   orchestrator reads it from outside without a request of its own. It costs well under a
   microsecond per statement, and every scimgate target (SQLite, PostgreSQL, PgBouncer) carries it.

Served as ``gunicorn -c config/gunicorn.conf.py scimgate_app:app`` with bench/ on ``PYTHONPATH``.
"""

from __future__ import annotations

import gc
import json
import mmap
import os
import struct
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from scimgate import create_app
from scimgate_config import load_config

COUNTER = struct.Struct("<q")
_maps: dict[int, mmap.mmap] = {}


def counter_map() -> mmap.mmap | None:
    """This process's counter (created on first use, so each forked worker gets its own file)."""
    pid = os.getpid()
    found = _maps.get(pid)
    if found is None:
        folder = os.environ.get("BENCH_SQLCOUNT_DIR")
        if not folder:
            return None
        path = Path(folder) / str(pid)
        path.write_bytes(bytes(COUNTER.size))
        with open(path, "r+b") as handle:
            found = _maps[pid] = mmap.mmap(handle.fileno(), COUNTER.size)
    return found


def count_statement(*_args: Any) -> None:
    """Add one to this worker's statement counter."""
    counter = counter_map()
    if counter is not None:
        COUNTER.pack_into(counter, 0, COUNTER.unpack_from(counter, 0)[0] + 1)


def engine_options() -> dict[str, Any]:
    """The configuration's engine options with ``BENCH_ENGINE_OPTIONS`` merged over them."""
    options = dict(load_config().get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    extra = json.loads(os.environ.get("BENCH_ENGINE_OPTIONS") or "{}")
    connect_args = {**options.get("connect_args", {}), **extra.pop("connect_args", {})}
    options.update(extra)
    if connect_args:
        options["connect_args"] = connect_args
    return options


if os.environ.get("BENCH_SQLCOUNT_DIR"):
    event.listen(Engine, "before_cursor_execute", count_statement)

app = create_app(overrides={"SQLALCHEMY_ENGINE_OPTIONS": engine_options()})
gc.freeze()  # as wsgi.py does
