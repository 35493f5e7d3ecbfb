"""scimgate's production app as the bench serves it: ``wsgi:app`` plus two things the bench needs.

1. Engine options from ``BENCH_ENGINE_OPTIONS`` (JSON), merged over the configuration's own
   ``SQLALCHEMY_ENGINE_OPTIONS``: ``SCIMGATE_*`` variables only carry strings and numbers, and behind
   PgBouncer in transaction mode psycopg must not prepare statements server-side
   (``{"connect_args": {"prepare_threshold": null}}``).
2. Counts of what the worker asks of its database, kept in a small memory-mapped file per worker
   under ``BENCH_SQLCOUNT_DIR`` (one per pid) so the orchestrator reads them from outside without a
   request of its own: SQL statements (``before_cursor_execute``), pool checkouts (each one a
   liveness ping where ``pool_pre_ping`` is on), commits and rollbacks through SQLAlchemy, and the
   pool's resets of returned connections. Each costs well under a microsecond, and every scimgate
   target (SQLite, PostgreSQL, PgBouncer) carries them.

Served as ``gunicorn -c config/gunicorn.conf.py scimgate_app:app`` with bench/ on ``PYTHONPATH``.
"""

from __future__ import annotations

import gc
import json
import mmap
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from counters import COUNTER
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from scimgate import create_app
from scimgate_config import load_config

SLOT = struct.Struct("<q")
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


def counter(slot: int) -> Callable[..., None]:
    """A listener adding one to this worker's count number ``slot`` (see ``COUNTS``)."""
    offset = slot * 8

    def count(*_args: Any) -> None:
        found = counter_map()
        if found is not None:
            SLOT.pack_into(found, offset, SLOT.unpack_from(found, offset)[0] + 1)

    return count


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
    event.listen(Engine, "before_cursor_execute", counter(0))
    event.listen(Pool, "checkout", counter(1))
    event.listen(Engine, "commit", counter(2))
    event.listen(Engine, "rollback", counter(3))
    event.listen(Pool, "reset", counter(4))

app = create_app(overrides={"SQLALCHEMY_ENGINE_OPTIONS": engine_options()})
gc.freeze()  # as wsgi.py does
