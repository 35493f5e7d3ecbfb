"""Replay an IdP's documented request sequence, kept as data (scimgate's own live under
``tests/payloads/<idp>/``; a plugin keeps its own next to its tests).

A payload file is a JSON object::

    {
      "client": "okta",                      # the client name made active before replaying
      "description": "...", "evidence": ["IDP-QUIRKS §1 ...", "https://..."],
      "steps": [
        {
          "name": "existence check before create",
          "method": "GET",
          "path": "/Users?filter=userName%20eq%20%22{{user_name}}%22",   # relative to /scim/v2
          "headers": {"User-Agent": "Okta SCIM Client 1.0.0"},          # optional
          "body": {...},                                                 # optional JSON body
          "raw_body": "...",                                             # optional, sent verbatim
          "auth": false,                                                 # optional: no credentials
          "expect": {"status": 200, "json": {"totalResults": 0}, "empty_body": false,
                     "headers": {"Content-Type": "application/scim+json"}},
          "capture": {"user_id": "id", "first_id": "Resources.0.id"}
        }
      ]
    }

``{{name}}`` placeholders in paths, headers, bodies and expectations are filled from ``vars``
(given by the test) and from earlier ``capture`` entries (dotted paths into the response JSON).
``expect.json`` is matched as a subset: objects need only the listed keys; lists must have the
same length and match element by element. The special string ``"{{*}}"`` matches any value and
``"{{absent}}"`` requires the key to be missing.

The runner is deliberately dumb: it sends real HTTP through the Flask test client with the
configured client's credentials, so only the server's own code decides the outcome.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from scimgate.testing.client import SCIM_PREFIX, ScimClient, active_client

_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][\w]*)\}\}")
ANY = "{{*}}"
ABSENT = "{{absent}}"


class ReplayError(AssertionError):
    """A step did not get the response the IdP expects; the message names the step."""


@dataclass
class Replay:
    """The outcome of a replayed sequence: captured variables and every response, by step name."""

    variables: dict[str, Any] = field(default_factory=dict)
    responses: dict[str, TestResponse] = field(default_factory=dict)


def load(path: Path) -> dict[str, Any]:
    """Read one payload file (a JSON object with ``client`` and ``steps``)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def fill(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ``{{name}}`` placeholders; a string that is one placeholder takes the raw value."""
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in variables:
            return variables[whole.group(1)]

        def one(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in variables:
                return match.group(0)
            return str(variables[key])

        return _PLACEHOLDER.sub(one, value)
    if isinstance(value, list):
        return [fill(v, variables) for v in value]
    if isinstance(value, dict):
        return {fill(k, variables): fill(v, variables) for k, v in value.items()}
    return value


def dig(document: Any, dotted: str) -> Any:
    """Follow ``a.b.0.c`` into parsed JSON; a missing step raises KeyError."""
    current = document
    for part in dotted.split("."):
        if isinstance(current, list):
            current = current[int(part)]
        elif isinstance(current, dict):
            current = current[part]
        else:
            raise KeyError(dotted)
    return current


def subset_mismatch(expected: Any, actual: Any, where: str = "$") -> str | None:
    """Describe the first way ``actual`` fails to contain ``expected``, or None when it does."""
    if expected == ANY:
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if value == ABSENT:
                if key in actual:
                    return f"{where}.{key}: expected absent, got {actual[key]!r}"
                continue
            if key not in actual:
                return f"{where}.{key}: missing (have {sorted(actual)})"
            problem = subset_mismatch(value, actual[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where}: expected {len(expected)} item(s), got {actual!r}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            problem = subset_mismatch(e, a, f"{where}[{index}]")
            if problem:
                return problem
        return None
    if type(expected) is not type(actual) or expected != actual:
        return f"{where}: expected {expected!r}, got {actual!r}"
    return None


def run(
    http: FlaskClient,
    sequence: dict[str, Any],
    auth_headers: dict[str, str],
    variables: dict[str, Any] | None = None,
) -> Replay:
    """Send every step in order, checking each expectation; return what was captured."""
    replay = Replay(variables=dict(variables or {}))
    for index, step in enumerate(sequence["steps"]):
        name = step.get("name") or f"step {index}"
        step = fill(step, replay.variables)
        headers = {} if step.get("auth") is False else dict(auth_headers)
        headers.update(step.get("headers") or {})
        kwargs: dict[str, Any] = {}
        if "body" in step:
            kwargs["data"] = json.dumps(step["body"])
            headers.setdefault("Content-Type", "application/scim+json")
        elif "raw_body" in step:
            kwargs["data"] = step["raw_body"]
        path = step["path"]
        url = path if path.startswith(SCIM_PREFIX) else SCIM_PREFIX + path
        response = http.open(url, method=step["method"], headers=headers, **kwargs)
        replay.responses[name] = response
        _check(name, step.get("expect") or {}, response)
        body = response.get_json(silent=True)
        for variable, dotted in (step.get("capture") or {}).items():
            try:
                replay.variables[variable] = dig(body, dotted)
            except (KeyError, IndexError, ValueError):
                raise ReplayError(f"[{name}] cannot capture {variable!r} from {dotted!r}: {body!r}") from None
    return replay


def replay_sequence(
    app: Flask, sequence: dict[str, Any], variables: dict[str, Any] | None = None, **setup: Any
) -> tuple[ScimClient, Replay]:
    """Make the sequence's ``client`` active (SCIM set up as an administrator would), replay it,
    and return the authenticated client and the outcome (``setup`` goes to ``configure_scim``)."""
    scim = active_client(app, sequence["client"], **setup)
    return scim, run(scim.client, sequence, scim.headers, variables)


def _check(name: str, expect: dict[str, Any], response: TestResponse) -> None:
    status = expect.get("status")
    body = response.get_json(silent=True)
    if status is not None and response.status_code != status:
        raise ReplayError(f"[{name}] expected HTTP {status}, got {response.status_code}: {body!r}")
    if expect.get("empty_body") and response.get_data():
        raise ReplayError(f"[{name}] expected an empty body, got {response.get_data()[:200]!r}")
    for header, value in (expect.get("headers") or {}).items():
        actual = response.headers.get(header)
        if value == ABSENT:
            if actual is not None:
                raise ReplayError(f"[{name}] header {header} should be absent, is {actual!r}")
        elif value != ANY and (actual is None or actual.split(";")[0].strip() != value):
            raise ReplayError(f"[{name}] header {header}: expected {value!r}, got {actual!r}")
    if "json" in expect:
        problem = subset_mismatch(expect["json"], body)
        if problem:
            raise ReplayError(f"[{name}] {problem}")
