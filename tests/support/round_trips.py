"""Count the round trips between scimgate and PostgreSQL (or PgBouncer), as the wire shows them.

A round trip is the client waiting for the server: it ends with the server's ``ReadyForQuery``
message, whatever the client sent (a simple query such as ``BEGIN``, ``ROLLBACK`` or the pool's
liveness ``SELECT 1``, or an extended-protocol statement ending in ``Sync``). SQLAlchemy's events
miss some of those (psycopg sends ``BEGIN`` itself, the pool pings through the bare driver), so
the count is taken on the wire: a loopback TCP relay in front of the server parses the server's
messages and counts every ``ReadyForQuery``.

    with RoundTripRelay("127.0.0.1", 5432) as relay:
        url = relay.url_for(database_url)   # the same database, through the relay
        before = relay.count
        ...                                 # one request
        relay.count - before                # its round trips

The relay needs clear text: its URLs say ``sslmode=disable``.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from types import TracebackType

import sqlalchemy as sa

READY_FOR_QUERY = ord("Z")
COMMAND_COMPLETE = ord("C")


class RoundTripRelay:
    """A loopback relay to one PostgreSQL server that counts ``ReadyForQuery`` messages."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._count = 0
        self._commands = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []

    @property
    def count(self) -> int:
        """Round trips completed through the relay so far (all connections)."""
        with self._lock:
            return self._count

    @property
    def commands(self) -> int:
        """Commands the server completed so far (``CommandComplete``): one per statement executed,
        so an ``executemany`` of 100 rows counts 100 even when psycopg pipelines it in one round trip."""
        with self._lock:
            return self._commands

    def url_for(self, url: str) -> str:
        """``url`` (host and port of this relay's server) rewritten to go through the relay."""
        parsed = sa.engine.make_url(url)
        return (
            parsed.set(host="127.0.0.1", port=self.port)
            .update_query_dict({"sslmode": "disable"})
            .render_as_string(hide_password=False)
        )

    def __enter__(self) -> RoundTripRelay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._closed.set()
        self._listener.close()
        for sock in list(self._sockets):
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self._sockets += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._count_replies, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _shut(sock)

    def _count_replies(self, server: socket.socket, client: socket.socket) -> None:
        """Forward the server's bytes, parsing its messages (type byte, int32 length, body)."""
        pending = b""
        try:
            while data := server.recv(65536):
                pending += data
                ready = commands = 0
                while len(pending) >= 5:
                    kind, length = pending[0], struct.unpack("!i", pending[1:5])[0]
                    if len(pending) < 1 + length:
                        break
                    ready += kind == READY_FOR_QUERY
                    commands += kind == COMMAND_COMPLETE
                    pending = pending[1 + length :]
                if ready or commands:  # counted before the client can see the reply: no race with a reader
                    with self._lock:
                        self._count += ready
                        self._commands += commands
                client.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (server, client):
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side's thread
        sock.shutdown(socket.SHUT_RDWR)
