"""The three SCIM log files: request ids, one line per request, tracebacks, no secrets, many apps."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scimgate import configuration_utils as cu
from scimgate.logs import scim_logs as scim_logging
from tests.support.config import (
    LOG_FILES,
    PASSWORD,
    SPC,
    USERNAME,
    basic_header,
    bearer_header,
    lines_with,
    read_log,
    sibling_app,
)
from tests.support.scim import configure_scim

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \[(?P<rid>[^\]]+)\] \S")
CONTINUATION = re.compile(r"^\[(?P<rid>[^\]]+)\] \| ")


def _assert_every_line_has_a_request_id(log_dir: Path) -> None:
    for name in LOG_FILES:
        for line in read_log(log_dir, name).splitlines():
            match = LINE.match(line) or CONTINUATION.match(line)
            assert match, f"{name}: {line!r}"
            assert match["rid"] != "-"


def test_all_three_files_exist_from_the_start(app: Flask, log_dir: Path) -> None:
    for name in LOG_FILES:
        assert (log_dir / name).is_file()


def test_request_id_is_returned_and_on_the_request_line(client: FlaskClient, log_dir: Path) -> None:
    response = client.get(SPC)
    request_id = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    lines = lines_with(log_dir, "scim-info.log", request_id)
    assert any(
        " request method=GET path=/scim/v2/ServiceProviderConfig status=401 " in line for line in lines
    )


def test_sane_incoming_request_id_is_kept(client: FlaskClient, log_dir: Path) -> None:
    response = client.get(SPC, headers={"X-Request-Id": "okta-req-0123456789"})
    assert response.headers["X-Request-Id"] == "okta-req-0123456789"
    assert lines_with(log_dir, "scim-info.log", "okta-req-0123456789")


@pytest.mark.parametrize(
    "incoming", ["short", "has space in it", "x" * 200, "inject] FAKE [x]", 'quote"s-123456']
)
def test_insane_incoming_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get(SPC, headers={"X-Request-Id": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


def test_one_info_line_per_scim_request_with_all_fields(
    client: FlaskClient, scim_headers: dict[str, str], log_dir: Path
) -> None:
    response = client.get("/scim/v2/Users?filter=userName%20eq%20%22x%22", headers=scim_headers)
    assert response.status_code == 200
    (line,) = lines_with(log_dir, "scim-info.log", response.headers["X-Request-Id"])
    assert re.search(
        r" INFO \[\w+\] request method=GET path=/scim/v2/Users status=200 duration_ms=\d+\.\d "
        r"client=okta principal=token:[0-9a-f]{12} remote=127\.0\.0\.1$",
        line,
    ), line
    assert "filter" not in line  # the query string (which may name people) is not logged


def test_non_scim_paths_get_an_id_but_no_info_line(client: FlaskClient, log_dir: Path) -> None:
    response = client.get("/not-scim")
    request_id = response.headers["X-Request-Id"]
    assert request_id
    assert lines_with(log_dir, "scim-info.log", request_id) == []


def test_lifecycle_events_go_to_debug_log_with_request_id(
    client: FlaskClient, scim_headers: dict[str, str], log_dir: Path
) -> None:
    response = client.post(
        "/scim/v2/Users",
        json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "log.user@example.com"},
        headers={**scim_headers, "Content-Type": "application/scim+json"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    lines = lines_with(log_dir, "scim-debug.log", response.headers["X-Request-Id"])
    assert any("user.created" in line and response.get_json()["id"] in line for line in lines), lines


def test_lifecycle_redacts_secret_looking_fields(app: Flask, log_dir: Path) -> None:
    with app.test_request_context("/scim/v2/Users"):
        scim_logging.lifecycle(
            "test.event", password="hunter2-secret", token_value="zq-token-secret", userName="u1"
        )
        request_id = scim_logging.current_request_id()
    (line,) = lines_with(log_dir, "scim-debug.log", request_id)
    # The secrets carry letters outside hex so that a request id can never contain them by chance.
    assert "hunter2-secret" not in line and "zq-token-secret" not in line
    assert 'password="<redacted>"' in line and 'token_value="<redacted>"' in line and "userName=u1" in line


def test_values_cannot_forge_log_lines(app: Flask, log_dir: Path) -> None:
    with app.test_request_context("/scim/v2/Users"):
        scim_logging.lifecycle("test.forge", userName="evil\n2020-01-01 00:00:00,000 INFO [x] forged")
        request_id = scim_logging.current_request_id()
    (line,) = lines_with(log_dir, "scim-debug.log", request_id)
    assert "\\n2020-01-01" in line
    _assert_every_line_has_a_request_id(log_dir)


def test_unexpected_exception_has_traceback_with_request_id_on_every_line(app: Flask, log_dir: Path) -> None:
    with app.test_request_context("/scim/v2/Users", method="POST"):
        try:
            raise RuntimeError("boom for the log")
        except RuntimeError as exc:
            scim_logging.log_unexpected(exc)
        request_id = scim_logging.current_request_id()
    text = read_log(log_dir, "scim-error.log")
    ours = [line for line in text.splitlines() if request_id in line]
    assert ours[0].endswith(f"[{request_id}] unexpected exception during POST /scim/v2/Users")
    assert any("Traceback (most recent call last):" in line for line in ours)
    assert ours[-1] == f"[{request_id}] | RuntimeError: boom for the log"
    _assert_every_line_has_a_request_id(log_dir)


def test_cli_actions_carry_a_cli_request_id(app: Flask, log_dir: Path) -> None:
    with app.app_context():
        cu.disable_sync_from_directory_provider()
    last = read_log(log_dir, "scim-debug.log").splitlines()[-1]
    assert re.search(r"\[cli-[0-9a-f]{16}\] config.sync_disabled$", last)


def test_several_apps_write_only_to_their_own_directory(app: Flask, log_dir: Path, tmp_path: Path) -> None:
    other_dir = tmp_path / "other-logs"
    other = sibling_app(app, other_dir)
    for name in scim_logging.FILES:
        routers = [h for h in logging.getLogger(name).handlers if isinstance(h, scim_logging._AppRouter)]
        assert len(routers) == 1
    first = app.test_client().get(SPC).headers["X-Request-Id"]
    second = other.test_client().get(SPC).headers["X-Request-Id"]
    assert len(lines_with(log_dir, "scim-info.log", first)) == 2  # auth.failed + request
    assert lines_with(log_dir, "scim-info.log", second) == []
    assert len(lines_with(other_dir, "scim-info.log", second)) == 2
    assert lines_with(other_dir, "scim-info.log", first) == []


def test_logs_contain_no_secret_after_using_every_credential(
    app: Flask, client: FlaskClient, log_dir: Path
) -> None:
    token = configure_scim(app)["Authorization"].split(" ", 1)[1]
    with app.app_context():
        cu.set_scim_basic_auth_username(USERNAME)
        cu.set_scim_basic_auth_password(PASSWORD)
        with pytest.raises(cu.ScimConfigurationError):
            cu.set_scim_basic_auth_password("weaksecret1")
    wrong_password = "Wrong_password_that_is_long_42!"
    basic_ok = basic_header(USERNAME, PASSWORD)
    basic_bad = basic_header(USERNAME, wrong_password)
    assert client.get(SPC, headers=bearer_header(token)).status_code == 200
    assert client.get(SPC, headers=basic_ok).status_code == 200
    assert client.get(SPC, headers=basic_bad).status_code == 401
    assert client.get(SPC, headers=bearer_header(token + "x")).status_code == 401
    with app.app_context():
        new_token = cu.generate_scim_bearer_token(2)
    assert client.get(SPC, headers=bearer_header(token)).status_code == 401
    assert client.get(SPC, headers=bearer_header(new_token)).status_code == 200
    secrets_used = [
        token,
        new_token,
        PASSWORD,
        wrong_password,
        "weaksecret1",
        basic_ok["Authorization"].split()[1],
        basic_bad["Authorization"].split()[1],
    ]
    for name in LOG_FILES:
        text = read_log(log_dir, name)
        for secret in secrets_used:
            assert secret not in text, f"{name} contains a secret"
        assert "$argon2" not in text
    assert "principal=basic:" in read_log(log_dir, "scim-info.log")
    _assert_every_line_has_a_request_id(log_dir)


def test_log_lines_are_exactly_what_logging_formats():
    """The hand-built line of the hot path equals ``logging.Formatter(FORMAT)``'s, tracebacks too."""
    import logging

    from scimgate.logs.scim_logs import FORMAT, _LineFormatter

    ours, reference = _LineFormatter(FORMAT), logging.Formatter(FORMAT)
    for created in (1_700_000_000.0, 1_700_000_000.999, 1_700_000_001.5):
        record = logging.makeLogRecord(
            {"msg": "request %s", "args": ("status=200",), "levelname": "INFO", "request_id": "abc123"}
        )
        record.created, record.msecs = created, int((created - int(created)) * 1000)
        assert ours.format(record) == reference.format(record)
    multi = logging.makeLogRecord({"msg": "boom\nline two", "levelname": "ERROR", "request_id": "r1"})
    assert ours.format(multi) == reference.format(multi).replace("\n", "\n[r1] | ")


def test_the_request_line_goes_through_logging_when_something_else_listens(
    client: FlaskClient, scim_headers: dict[str, str], log_dir: Path
) -> None:
    """Lines skip the logging machinery only while their logger is untouched: a handler a
    deployment adds gets every line (request lines, lifecycle events), and the file's lines are
    the same either way."""
    direct = client.get("/scim/v2/Users?count=1", headers=scim_headers)
    (direct_line,) = lines_with(log_dir, "scim-info.log", direct.headers["X-Request-Id"])

    class Collect(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.messages.append(record.getMessage())

    extra, extra_debug = Collect(), Collect()
    logger, debug_logger = (
        logging.getLogger(scim_logging.INFO_LOGGER),
        logging.getLogger(scim_logging.DEBUG_LOGGER),
    )
    logger.addHandler(extra)
    debug_logger.addHandler(extra_debug)
    try:
        routed = client.get("/scim/v2/Users?count=1", headers=scim_headers)
        body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "listened.to"}
        created = client.post("/scim/v2/Users", json=body, headers=scim_headers)
    finally:
        logger.removeHandler(extra)
        debug_logger.removeHandler(extra_debug)
    (routed_line,) = lines_with(log_dir, "scim-info.log", routed.headers["X-Request-Id"])
    assert next(m for m in extra.messages if m.startswith("request ")) == routed_line.split("] ", 1)[1]
    (event,) = [m for m in extra_debug.messages if m.startswith("user.created ")]
    (event_line,) = lines_with(log_dir, "scim-debug.log", created.headers["X-Request-Id"])
    assert event_line.endswith("] " + event) and created.get_json()["id"] in event

    def message(line: str) -> str:  # after the time, level and request id; the duration differs
        return re.sub(r"duration_ms=[\d.]+", "duration_ms=D", line.split("] ", 1)[1])

    assert LINE.match(direct_line) and LINE.match(routed_line)
    assert " INFO [" in direct_line and " INFO [" in routed_line
    assert message(direct_line) == message(routed_line)
    assert message(direct_line).startswith("request method=GET path=/scim/v2/Users status=200 duration_ms=D ")


def test_the_direct_request_line_equals_what_logging_formats(app: Flask) -> None:
    """The direct path's line is ``_LineFormatter.format`` of the same record, to the millisecond."""
    from scimgate.logs.scim_logs import FORMAT, _LineFormatter

    formatter = _LineFormatter(FORMAT)
    for created in (1_700_000_000.0, 1_700_000_000.9996, 1_700_000_001.5):
        record = logging.makeLogRecord({"msg": "request status=200", "levelname": "INFO", "request_id": "r9"})
        record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
        assert formatter.line(created, "INFO", "r9", "request status=200") == logging.Formatter(
            FORMAT
        ).format(record)


def test_a_rotated_log_file_is_reopened_within_a_second(
    app: Flask, client: FlaskClient, scim_headers: dict[str, str], log_dir: Path
) -> None:
    """After logrotate moves scim-info.log, lines go to a new file at the same path (the rotation
    check runs at most once a second; until then they land in the moved file)."""
    handler = app.extensions["scimgate_scim_logging"][scim_logging.INFO_LOGGER]
    first = client.get("/scim/v2/Users?count=1", headers=scim_headers).headers["X-Request-Id"]
    (log_dir / "scim-info.log").rename(log_dir / "scim-info.log.1")
    try:
        handler.ROTATION_CHECK_SECONDS = 3600  # however slow this machine: still within the window
        soon = client.get("/scim/v2/Users?count=1", headers=scim_headers).headers["X-Request-Id"]
        handler.ROTATION_CHECK_SECONDS = 0  # the window has passed
        later = client.get("/scim/v2/Users?count=1", headers=scim_headers).headers["X-Request-Id"]
    finally:
        del handler.ROTATION_CHECK_SECONDS
    moved = (log_dir / "scim-info.log.1").read_text()
    current = (log_dir / "scim-info.log").read_text()
    assert first in moved and soon in moved and later not in moved
    assert later in current and first not in current


def test_field_values_are_written_as_json_writes_them() -> None:
    """The fast spellings of numbers, booleans and null are exactly json.dumps's."""
    import enum
    import http
    import json

    class Level(enum.IntEnum):
        HIGH = 3

    values = {
        "n": 1,
        "f": 1.5,
        "neg": -0.25,
        "none": None,
        "t": True,
        "e": Level.HIGH,
        "status": http.HTTPStatus.OK,
        "nan": float("nan"),
        "text": "two words",
    }
    expected = " ".join(f"{key}={json.dumps(value)}" for key, value in values.items())
    assert scim_logging.format_fields(values) == expected
