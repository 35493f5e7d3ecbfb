"""Raw-socket HTTP for body-cap tests: send headers and only part of a body, then read the answer.

An HTTP client library would insist on sending the whole body first; these helpers prove the
server answers 413 without waiting for (or reading) a body it has refused.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

# A guard against hanging the suite, not a timing assertion: a server that waits for the body
# never answers, and the read gives up after this many seconds.
READ_TIMEOUT = 20


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def status_code(self) -> int:
        return self.status

    def json(self) -> dict:
        return json.loads(self.body)


def _connect(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=READ_TIMEOUT)
    return sock


def _head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_response(sock: socket.socket) -> RawResponse:
    """Read until the server closes (it does after a 413) or the whole body announced arrived."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            length = _header_value(head, "content-length")
            if length is not None and len(rest) >= int(length):
                break
    head, _, body = data.partition(b"\r\n\r\n")
    if not head:
        raise AssertionError("the server closed the connection without an answer")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, body)


def _header_value(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def claim_length(
    base_url: str, method: str, path: str, headers: dict[str, str], claimed: int, sent: bytes = b"{"
) -> RawResponse:
    """Declare a ``Content-Length`` of ``claimed`` bytes, send only ``sent``, and read the answer."""
    with _connect(base_url) as sock:
        sock.sendall(_head(method, path, {**headers, "Content-Length": str(claimed)}) + sent)
        return _read_response(sock)


def chunked_upload(
    base_url: str, method: str, path: str, headers: dict[str, str], total: int, chunk: int = 8192
) -> RawResponse:
    """Send ``total`` bytes as HTTP/1.1 chunks WITHOUT the closing zero chunk, then read the answer.

    A server that reads the body whole would wait for the end forever; one that cuts it off at
    its cap answers 413 having read at most that much.
    """
    with _connect(base_url) as sock:
        sock.sendall(_head(method, path, {**headers, "Transfer-Encoding": "chunked"}))
        sent = 0
        while sent < total:
            size = min(chunk, total - sent)
            try:
                sock.sendall(f"{size:x}\r\n".encode() + b"a" * size + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += size
        return _read_response(sock)


def send_whole(base_url: str, method: str, path: str, headers: dict[str, str], body_size: int) -> None:
    """Send a ``body_size``-byte body in full, whatever the server does (it may close early)."""
    with _connect(base_url) as sock:
        sock.sendall(_head(method, path, {**headers, "Content-Length": str(body_size)}))
        block = b"a" * 65536
        remaining = body_size
        try:
            while remaining > 0:
                sock.sendall(block[: min(len(block), remaining)])
                remaining -= min(len(block), remaining)
            sock.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass


def rss_bytes(pid: int) -> int:
    """A process's resident set size, from /proc (Linux)."""
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers of a master (its children, from /proc)."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            children.append(int(entry))
    return children
