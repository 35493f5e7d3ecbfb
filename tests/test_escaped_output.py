"""Issue 16: stored names print escaped in every CLI output and in the three SCIM log files, so a
value with CR/LF, NEL, U+2028 or an ESC/OSC sequence cannot forge a line or reach a terminal.
The names are stored as they would have been before the input rule (directly in the database)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from scimgate import cli
from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.extensions import db
from scimgate.logs import scim_logs as scim_logging
from scimgate.logs.audit import AuditEvent
from scimgate.scim import safe_text, urns
from tests.support.config import LOG_FILES, add_pushed_user, read_log

FORGED = "\r\n2026-01-01T00:00:00Z cli:root user.deleted User x y request=- {}"
OSC = "\x1b]0;owned\x07\x1b[2J"
UNSAFE_TAIL = f"{FORGED}{OSC}\x85\x9b31m\u2028\u2029\u202e"
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \[(?P<rid>[^\]]+)\] \S")
CONTINUATION = re.compile(r"^\[(?P<rid>[^\]]+)\] \| ")


def _assert_inert(text: str, lines: int | None = None) -> None:
    """No unsafe character at all (so nothing can split a line or reach the terminal)."""
    found = safe_text.UNSAFE.search(text.replace("\n", ""))
    assert found is None, f"unsafe {found.group()!r} in {text!r}"
    if lines is not None:
        assert len(text.splitlines()) == lines, text


def test_audit_prints_one_escaped_line_per_event(app: Flask, scim, runner: FlaskCliRunner) -> None:
    with app.app_context():
        user = add_pushed_user(f"eve{UNSAFE_TAIL}")
        scim_id = user.scim.scim_user_uuid
        db.session.add(
            AuditEvent(
                at=dt.datetime(2026, 1, 2),
                actor=f"admin:mallory{OSC}",
                request_id="r\r\nforged\x1b[2J",
                action="user.patched",
                target_type="User",
                target_id=scim_id,
                target_name=f"eve{UNSAFE_TAIL}",
                changes=json.dumps({"displayName": [None, f"x{UNSAFE_TAIL}"]}, ensure_ascii=False),
            )
        )
        db.session.commit()
    # A real SCIM change of that legacy user writes a real audit row with its old name.
    off = scim.patch(
        f"/Users/{scim_id}",
        json={
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert off.status_code == 200, off.get_json()
    result = runner.invoke(cli.main, ["audit", "--user", scim_id])
    assert result.exit_code == 0, result.output
    _assert_inert(result.output, lines=2)
    assert "eve\\r\\n2026-01-01T00:00:00Z" in result.output
    assert "mallory\\x1b]0;owned\\x07" in result.output
    assert "\\u202e" in result.output
    first = result.output.splitlines()[0]
    changes = first[first.rindex(' {"displayName"') :]
    assert json.loads(changes) == {"displayName": [None, f"x{UNSAFE_TAIL}"]}  # still the same JSON


def test_status_commands_print_stored_names_escaped(app: Flask, runner: FlaskCliRunner) -> None:
    from tests.support.scim import configure_scim

    configure_scim(app)
    with app.app_context():  # values stored before the setters refused them
        conf_store.put(K.BASIC_USERNAME, f"svc{OSC}{FORGED}")
        conf_store.put(K.SAML_IDP_ENTITY_ID, f"https://idp.example/{OSC}\u202e")
        db.session.commit()
    for args in (["scim", "status"], ["saml", "status"], ["conf"], ["conf", "scim.basic_auth.username"]):
        result = runner.invoke(cli.main, args)
        assert result.exit_code == 0, (args, result.output)
        _assert_inert(result.output)
        assert "\\x1b]0;owned" in result.output or "\\x1b]0;owned" in result.output.replace("\\\\", "\\")


def _every_line_is_a_log_line(log_dir: Path) -> None:
    for name in LOG_FILES:
        text = read_log(log_dir, name)
        for line in text.splitlines():  # splits on \r, \x85, \u2028 too: a forged line shows here
            assert LINE.match(line) or CONTINUATION.match(line), f"{name}: {line!r}"
        _assert_inert(text)


def test_scim_logs_cannot_be_forged_by_paths_headers_or_names(
    app: Flask, scim, client, log_dir: Path
) -> None:
    nasty = "%0D%0A2026-01-01%2000:00:00,000%20INFO%20[x]%20forged%1B]0;t%07%C2%85%E2%80%A8%E2%80%AE"
    headers = {"User-Agent": "\x1b]0;agent\x07\x85", "X-Request-Id": "id\x1b[2Jlong-enough"}
    for path in (f"/scim/v2/Users/{nasty}", f"/scim/v2/Groups/{nasty}", f"/scim/v2/{nasty}"):
        assert scim.get(path, headers=headers).status_code == 404
        assert client.get(path, headers=headers).status_code == 401  # auth.failed line with the path
    with app.app_context():
        legacy = add_pushed_user(f"eve{UNSAFE_TAIL}")
        scim_id = legacy.scim.scim_user_uuid
    patched = scim.patch(
        f"/Users/{scim_id}",
        json={
            "schemas": [urns.PATCH_OP],
            "Operations": [{"op": "replace", "path": "active", "value": False}],
        },
    )
    assert patched.status_code == 200
    with app.test_request_context(f"/scim/v2/Users/x{FORGED}\x85", method="POST"):
        try:
            raise RuntimeError(f"boom with {UNSAFE_TAIL}")
        except RuntimeError as exc:
            scim_logging.log_unexpected(exc)
    _every_line_is_a_log_line(log_dir)
    assert "\\u2028" in read_log(log_dir, "scim-info.log")
    assert "eve\\r\\n2026" in read_log(log_dir, "scim-debug.log")
