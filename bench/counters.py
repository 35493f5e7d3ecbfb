"""The layout of the per-worker counts ``scimgate_app.py`` writes and ``pgtargets.py`` reads.

One memory-mapped file per gunicorn worker, named by its pid: one little-endian 64-bit count per
name in ``COUNTS``, in that order. In a module of its own because the writer imports scimgate's
app and the reader must not.
"""

from __future__ import annotations

import struct

COUNTS = ("statements", "checkouts", "commits", "rollbacks", "resets")
COUNTER = struct.Struct(f"<{len(COUNTS)}q")
