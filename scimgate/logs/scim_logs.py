"""The reference's three SCIM log files, each line tagged with the request id.

- ``scim-debug.log``: lifecycle events (``lifecycle("user.created", scim_id=...)``), and why each
  refused or failed /scim/v2 request was refused (``refused(...)``: status, scimType, detail).
- ``scim-info.log``: one line per /scim/v2 request, auth failures with reason and remote address,
  configuration errors.
- ``scim-error.log``: unexpected exceptions with traceback (``log_unexpected(exc)``).

Loggers are process-global but apps are not (tests build several): each logger carries a single
routing handler that forwards a record to the file handlers of the *current* app, so handlers
never pile up and no app writes into another app's directory. The file handlers are
``WatchedFileHandler``s, which reopen a file that logrotate moved (checked at most once a second),
and every process appends whole lines, so several workers can share the files. The per-request
and lifecycle lines go straight to the file handler while nothing else listens on their logger.

No secret is ever passed here; as a second guard, fields whose name looks secret are redacted.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import time
import traceback
import unicodedata
import uuid
from logging.handlers import WatchedFileHandler
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request

from scimgate.conf.scim import get_scim_client
from scimgate.db.request_state import SCIM_PATH_PREFIX as SCIM_PATH_PREFIX  # where web/ and activity read it
from scimgate.db.request_state import current_request, current_state
from scimgate.scim.safe_text import escape_keeping_newlines, json_escape

DEBUG_LOGGER = "scimgate.scim.debug"
INFO_LOGGER = "scimgate.scim.info"
ERROR_LOGGER = "scimgate.scim.error"
FILES = {DEBUG_LOGGER: "scim-debug.log", INFO_LOGGER: "scim-info.log", ERROR_LOGGER: "scim-error.log"}
REQUEST_ID_HEADER = "X-Request-Id"
_EXTENSION_KEY = "scimgate_scim_logging"
REASON_MAX = 300  # characters of a detail (or path) on a refusal line: request values are bounded
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
_SECRET_FIELD = re.compile(r"pass|secret|token(?!_fingerprint)|authorization|credential|pepper|hash", re.I)
_BARE_VALUE = re.compile(r"[\w.:/@+-]+")
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(message)s"


class _RequestIdFilter(logging.Filter):
    """Attach ``request_id`` to every record (``-`` when there is neither request nor app)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class _LineFormatter(logging.Formatter):
    """``FORMAT``, built directly (every SCIM request writes a line, so this is a hot path), and
    the request id repeated on continuation lines (tracebacks), so every line can be grepped.

    The timestamp text is made once per second; the output is what ``logging.Formatter`` with
    ``FORMAT`` writes (``2026-11-29 13:45:54,123 INFO [id] message``).
    """

    _stamp: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "-")
        if record.exc_info or record.stack_info:
            text = super().format(record)
        else:
            text = self.line(record.created, record.levelname, request_id, record.getMessage())
        text = escape_keeping_newlines(text)  # a CR, NEL or ESC in a message stays inert
        return text.replace("\n", f"\n[{request_id}] | ") if "\n" in text else text

    def line(self, created: float, level: str, request_id: str, message: str) -> str:
        """One line in ``FORMAT`` for a message without a traceback (``msecs`` as logging has it)."""
        second = int(created)
        held_second, stamp = self._stamp
        if held_second != second:
            stamp = time.strftime(self.default_time_format, self.converter(second))
            self._stamp = (second, stamp)
        msecs = int((created - second) * 1000 + 0.0)  # logging.LogRecord's msecs, truncated
        return f"{stamp},{msecs:03d} {level} [{request_id}] {message}"


def _no_caller(*_: Any, **__: Any) -> tuple[str, int, str, None]:
    """Stand-in for ``Logger.findCaller``: the format shows no source line, so skip the stack walk."""
    return "(unknown file)", 0, "(unknown function)", None


class _WatchedLinesHandler(WatchedFileHandler):
    """A ``WatchedFileHandler`` that looks for a rotated file at most once a second.

    The stock handler calls ``os.stat`` before every line, and every SCIM request writes one. After
    logrotate moves a file, lines written within that second still land in the moved file (kept
    on disk), then the handler reopens the new one, as the stock handler would.
    """

    ROTATION_CHECK_SECONDS = 1.0
    _checked_at = float("-inf")

    def reopenIfNeeded(self) -> None:
        now = time.monotonic()
        if now - self._checked_at >= self.ROTATION_CHECK_SECONDS:
            self._checked_at = now
            super().reopenIfNeeded()

    def _make_directory(self) -> None:
        """Make the file's directory before the file is first opened: the ``scimgate`` command's
        app makes neither until a line is written (see ``init_app``)."""
        os.makedirs(os.path.dirname(os.path.abspath(self.baseFilename)), exist_ok=True)

    def emit(self, record: logging.LogRecord) -> None:
        if self.stream is None:
            self._make_directory()
        super().emit(record)

    def write_line(self, text: str) -> None:
        """Write one formatted line as ``emit`` would, without a ``LogRecord`` (the request line)."""
        self.acquire()
        try:
            self.reopenIfNeeded()
            if self.stream is None:  # what FileHandler opens, by its public attributes
                self._make_directory()
                self.stream = open(  # noqa: SIM115 (the handler keeps it open)
                    self.baseFilename, self.mode, encoding=self.encoding, errors=self.errors
                )
            self.stream.write(text + self.terminator)
            self.flush()
        except Exception:  # as logging does: report on stderr, never fail the request
            self.handleError(logging.makeLogRecord({"msg": text}))
        finally:
            self.release()


class _AppRouter(logging.Handler):
    """Forward records to the file handler the current app opened for this logger."""

    def __init__(self, logger_name: str) -> None:
        super().__init__()
        self.logger_name = logger_name

    def emit(self, record: logging.LogRecord) -> None:
        if not has_app_context():
            return
        handlers: dict[str, logging.Handler] | None = current_app.extensions.get(_EXTENSION_KEY)
        if handlers and self.logger_name in handlers:
            handlers[self.logger_name].handle(record)


def current_request_id() -> str:
    """Return the id of this request, or of this CLI/shell app context (made on first use)."""
    state = current_state()
    if state is not None:
        if state.request_id is None:
            state.request_id = _choose_request_id()
        return state.request_id
    if has_app_context():
        if "scimgate_request_id" not in g:
            g.scimgate_request_id = "cli-" + uuid.uuid4().hex[:16]
        return g.scimgate_request_id
    return "-"


def _choose_request_id() -> str:
    """Accept a sane incoming X-Request-Id (so IdP and proxy logs correlate), else make one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if incoming and _SANE_REQUEST_ID.match(incoming):
        return incoming
    return os.urandom(16).hex()  # 128 random bits, like a uuid4's hex without its slow constructor


# The three SCIM loggers (``logging.getLogger`` takes the logging module's lock on every call).
_LOGGERS: dict[str, logging.Logger] = {}


def _install_routers() -> None:
    """Give each SCIM logger exactly one routing handler, however many apps are created."""
    for name in FILES:
        logger = _LOGGERS[name] = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.findCaller = _no_caller  # type: ignore[method-assign]
        if not any(isinstance(h, _AppRouter) for h in logger.handlers):
            logger.addHandler(_AppRouter(name))


def init_app(app: Flask) -> None:
    """Open the three files under ``LOG_DIR`` for this app and tag requests with an id.

    A server's app creates all three files now, as admins expect; the ``scimgate`` command's app
    (``CREATE_FILES_AT_START`` False) creates a file, and the directory, when first writing to it,
    so ``--help`` and read-only commands leave nothing in the working directory.
    """
    log_dir = app.config["LOG_DIR"]
    at_start = app.config.get("CREATE_FILES_AT_START", True)
    if at_start:
        os.makedirs(log_dir, exist_ok=True)
    handlers: dict[str, logging.Handler] = {}
    for name, filename in FILES.items():
        path = os.path.join(log_dir, filename)
        if at_start:
            open(path, "a", encoding="utf-8").close()
        handler = _WatchedLinesHandler(path, encoding="utf-8", delay=True)
        handler.setFormatter(_LineFormatter(FORMAT))
        handler.addFilter(_RequestIdFilter())
        handler.setLevel(logging.DEBUG if name == DEBUG_LOGGER else logging.INFO)
        handlers[name] = handler
    app.extensions[_EXTENSION_KEY] = handlers
    _install_routers()
    app.before_request(_start_request)
    app.after_request(_finish_request)
    from flask import got_request_exception

    got_request_exception.connect(_on_uncaught_exception, app)


def _start_request() -> None:
    state = current_state()
    if state is not None:
        state.started_at = time.perf_counter()
    current_request_id()


def request_started_at() -> float:
    """When this request began (``time.perf_counter``), for durations in the logs and activity."""
    state = current_state()
    started = state.started_at if state is not None else None
    return started or time.perf_counter()


def _finish_request(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = current_request_id()
    state = current_state()
    if state is not None and state.is_scim:
        log_request(response.status_code, (time.perf_counter() - request_started_at()) * 1000)
    return response


def _on_uncaught_exception(sender: Flask, exception: BaseException, **_: Any) -> None:
    log_unexpected(exception)


@functools.lru_cache(maxsize=256)
def _is_secret_field(key: str) -> bool:
    return _SECRET_FIELD.search(key) is not None


_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def _field_text(value: Any) -> str:
    """One value as ``format_fields`` writes it: bare when it is a plain word, else JSON with
    every line break, control and bidi character escaped (``json.dumps`` leaves C1, U+2028/2029
    and the bidi controls raw), so no value can forge a line or reach a terminal."""
    if isinstance(value, str) and value and _BARE_VALUE.fullmatch(value):
        return value
    if value is None or isinstance(value, bool):
        return _JSON_CONSTANTS[value]
    if isinstance(value, int):
        return int.__repr__(value)  # what json.dumps writes, also for an IntEnum
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    return json_escape(json.dumps(value, default=str, ensure_ascii=False))


def format_fields(fields: dict[str, Any]) -> str:
    """Render ``key=value`` pairs on one line; strings are JSON-quoted when needed (no injection)."""
    parts = []
    for key, value in fields.items():
        if value is not None and _is_secret_field(key):
            value = "<redacted>"
        parts.append(f"{key}={_field_text(value)}")
    return " ".join(parts)


def lifecycle(event: str, **fields: Any) -> None:
    """Write a lifecycle event to scim-debug.log, e.g. ``lifecycle("user.created", scim_id=...)``.

    Events used by scimgate: user.created/updated/activated/deactivated/deleted,
    group.created/renamed/member_added/member_removed/deleted, config.*, scim.cleanup.
    """
    _emit(DEBUG_LOGGER, logging.DEBUG, " ".join(filter(None, (event, format_fields(fields)))))


LOGGED_PATH_MAX = 500


def _bounded(text: str, limit: int = LOGGED_PATH_MAX) -> str:
    """A client-controlled value cut to ``limit`` characters: no request can write a huge line."""
    return text if len(text) <= limit else f"{text[:limit]}...(+{len(text) - limit} chars)"


INFO_VALUE_MAX = 1000


def info(event: str, **fields: Any) -> None:
    """Write one event line to scim-info.log; a string value (a username typed into the sign-in
    form, a reason quoting input) is cut to ``INFO_VALUE_MAX`` characters."""
    bounded = {k: _bounded(v, INFO_VALUE_MAX) if isinstance(v, str) else v for k, v in fields.items()}
    _emit(INFO_LOGGER, logging.INFO, " ".join(filter(None, (event, format_fields(bounded)))))


def _emit(logger_name: str, level: int, message: str) -> None:
    """Write one line: straight to this app's file handler while the logger is as ``init_app``
    left it, else through ``logging`` (a handler a deployment added, a level it changed).

    Every SCIM request writes a line or two, and the logging module's work per record (a
    ``LogRecord``, the caller lookup, the filters, the routing handler, ``Formatter``'s
    ``strftime`` per line) cost as much as writing it: the direct path uses the same handler,
    lock, formatter and file, so the lines are the same either way (``tests/test_logs.py``).

    Measured for issue 18 (``bench/inproc.py``, CPU per request, two runs each, this path and its
    helpers ``_no_caller``, ``_LOGGERS``, ``_direct_handler``, ``_LineFormatter.line``,
    ``write_line`` against plain ``logging``): GET 0.33 vs 0.37 ms (+14 % without it), filter
    0.42 vs 0.47 ms (+13 %), PATCH 0.73 vs 0.81 ms (+12 %), POST 0.72 vs 0.75 ms (+4 %); kept,
    since it pays more than 3 % of a request. Only public ``logging`` API is used.
    """
    handler = _direct_handler(logger_name, level) if "\n" not in message else None
    if handler is None:
        logging.getLogger(logger_name).log(level, "%s", message)
        return
    formatter = handler.formatter
    assert isinstance(formatter, _LineFormatter)
    line = formatter.line(time.time(), logging.getLevelName(level), current_request_id(), message)
    handler.write_line(line)


def config_error(function: str, message: str) -> None:
    """Record a refused configuration change in scim-info.log (the message holds no secret)."""
    logging.getLogger(INFO_LOGGER).warning(
        "config.error %s", format_fields({"function": function, "detail": message})
    )


def auth_failure(reason: str, scheme: str | None) -> None:
    """Record why a SCIM request was refused, with the remote address (never sent to the client)."""
    state = current_state()
    if state is not None:
        state.auth_reason = reason  # for the refusal line in scim-debug.log
    logging.getLogger(INFO_LOGGER).warning(
        "auth.failed %s",
        format_fields(
            {
                "reason": reason,
                "scheme": scheme,
                "remote": request.remote_addr,
                "method": request.method,
                "path": _bounded(request.path),
            }
        ),
    )


def _one_line(text: str, limit: int = REASON_MAX) -> str:
    """``text`` cut to ``limit`` characters, every control or line-break character escaped
    (``\\u000a``), so no value taken from a request can start a forged log line."""
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    if text.isprintable():
        return text
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Zl", "Zp") else f"\\u{ord(ch):04x}" for ch in text
    )


def _without_credentials(text: str) -> str:
    """``text`` with this request's credentials (token, Basic password or header) blanked out."""
    current = current_request()
    if current is None:
        return text
    header = current.headers.get("Authorization", "")
    secrets = [header, *header.split(None, 1)[1:]]
    auth = current.authorization
    if auth is not None and auth.password:
        secrets.append(auth.password)
    for secret in secrets:
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, "<redacted>")
    return text


def refused(status: int, detail: str, scim_type: str | None = None, attribute: str | None = None) -> None:
    """Write why this /scim/v2 request was refused to scim-debug.log, under its request id.

    The reference sends admins to the debug log "if SCIM synchronization fails": the line has
    the status, ``scimType``, the ``detail`` the client got, the attribute concerned and, for an
    authentication refusal, the reason the client was not told. Never a credential nor the body;
    values from the request are cut to ``REASON_MAX`` characters and escaped onto one line. The
    same reason is kept for the request's activity row (``current_refusal``).
    """
    current = current_request()
    state = current_state()
    if current is None or state is None or not state.is_scim:
        return
    detail = _one_line(_without_credentials(detail))
    auth_reason = state.auth_reason
    fields = {
        "method": current.method,
        "path": _one_line(current.path),
        "status": status,
        "scimType": scim_type,
        "detail": detail,
        "attribute": _one_line(attribute) if attribute else None,
        "reason": _one_line(auth_reason) if auth_reason else None,
    }
    _emit(
        DEBUG_LOGGER,
        logging.DEBUG,
        "request.refused " + format_fields({k: v for k, v in fields.items() if v is not None}),
    )
    summary = f"{status}{' ' + scim_type if scim_type else ''}: {detail}"
    state.refusal = summary + (f" ({fields['reason']})" if auth_reason else "")


def current_refusal() -> str | None:
    """Why the current request was refused (``"409 uniqueness: userName 'x' is ..."``), or None:
    what the activity row keeps so the admin's page can show it."""
    state = current_state()
    return None if state is None else state.refusal


def log_request(status: int, duration_ms: float) -> None:
    """Write the one line every /scim/v2 request gets in scim-info.log.

    The logging module's work per record was a sixth of a ``GET``: see ``_emit``.
    """
    current = current_request()
    if current is None:
        raise RuntimeError("log_request() needs a request")
    environ = current.environ
    state = current_state()
    message = "request " + format_fields(
        {
            "method": environ.get("REQUEST_METHOD"),
            "path": _bounded(current.path),
            "status": status,
            "duration_ms": round(duration_ms, 1),
            "client": _active_client(),
            "principal": state.principal if state is not None else None,
            "remote": environ.get("REMOTE_ADDR"),
        }
    )
    _emit(INFO_LOGGER, logging.INFO, message)


def _direct_handler(logger_name: str, level: int) -> _WatchedLinesHandler | None:
    """This app's file handler of ``logger_name`` when the logger is exactly as ``init_app`` left
    it and the line is wanted; else None (the caller goes through ``logging``)."""
    logger = _LOGGERS.get(logger_name) or logging.getLogger(logger_name)
    if len(logger.handlers) != 1 or not isinstance(logger.handlers[0], _AppRouter) or logger.filters:
        return None
    if not logger.isEnabledFor(level):
        return None
    if not has_app_context():
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    handlers: dict[str, logging.Handler] | None = app.extensions.get(_EXTENSION_KEY)
    handler = handlers.get(logger_name) if handlers else None
    if not isinstance(handler, _WatchedLinesHandler) or handler.level > level or len(handler.filters) != 1:
        return None
    return handler


def _active_client() -> str | None:
    """Return the configured client for the request line; a broken DB must not break logging."""
    try:
        return get_scim_client()
    except Exception:  # logging must never turn a response into an error
        return None


def log_unexpected(exc: BaseException) -> None:
    """Write an unexpected exception with its traceback to scim-error.log."""
    where = (
        f"{request.method} {_field_text(_bounded(request.path))}"
        if has_request_context()
        else "outside a request"
    )
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).rstrip()
    logging.getLogger(ERROR_LOGGER).error("unexpected exception during %s\n%s", where, text)
