"""The OpenAPI description at /scim/v2/openapi.json, and schemathesis run against the live app.

The fuzz run uses schemathesis' engine (what ``st run`` runs): the examples the document carries,
its coverage phase (boundary and malformed values of every parameter and body), random fuzzing,
and a stateful phase that follows the document's links (POST 201 → GET/PUT/PATCH/DELETE of the
created id), so writes on existing resources are exercised, not only 404s. Ids of a seeded user
and group are also offered as examples of every ``{id}``.

``SCIMGATE_FUZZ_EXAMPLES`` (default 15) bounds the examples per operation and phase;
``SCIMGATE_FUZZ_SEED`` replays a run (the seed is printed with the summary).
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from scimgate.scim import schema, urns
from tests.support.live_server import live_server

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "use_after_free",
    "ensure_resource_availability",
)
MAX_EXAMPLES = int(os.environ.get("SCIMGATE_FUZZ_EXAMPLES", "15"))
STATEFUL_STEPS = int(os.environ.get("SCIMGATE_FUZZ_STEPS", "40"))


def test_openapi_requires_authentication_like_every_scim_route(client, scim_headers):
    refused = client.get("/scim/v2/openapi.json")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"]
    response = client.get("/scim/v2/openapi.json", headers=scim_headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"


def test_openapi_document_is_built_from_the_schema_definitions(client, scim_headers):
    doc = client.get("/scim/v2/openapi.json", headers=scim_headers).get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": "http://localhost/scim/v2"}]
    components = doc["components"]["schemas"]
    for resource in schema.RESOURCE_SCHEMAS.values():
        served = components[resource.name]["properties"]
        assert set(served) == {"schemas"} | {a.name for a in (*resource.common, *resource.attributes)}
        assert components[resource.name]["additionalProperties"] is False
        assert components[f"{resource.name}Request"]["additionalProperties"] is True
    user = components["UserRequest"]
    assert user["required"] == ["schemas", "userName"]
    assert components["GroupRequest"]["required"] == ["schemas", "displayName"]
    assert user["properties"]["userName"]["maxLength"] == 150
    assert user["properties"]["emails"]["items"]["properties"]["value"]["maxLength"] == 254
    assert set(doc["components"]["securitySchemes"]) == {"bearerAuth", "basicAuth"}
    paths = doc["paths"]
    assert set(paths["/Users/{id}"]) == {"parameters", "get", "put", "patch", "delete"}
    assert "204" in paths["/Groups/{id}"]["patch"]["responses"]
    assert "501" in paths["/Bulk"]["post"]["responses"]
    # schemathesis accepts the document (it refuses invalid OpenAPI).
    loaded = schemathesis.openapi.from_dict(doc)
    assert len(list(loaded.get_all_operations())) == sum(
        1 for item in paths.values() for method in item if method != "parameters"
    )


@dataclass
class FuzzSummary:
    seed: int
    operations: int = 0
    examples: int = 0
    per_phase: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # (operation label, status) -> count
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> str:
        lines = [
            f"schemathesis {schemathesis.__version__}: seed={self.seed} operations={self.operations} "
            f"examples={self.examples} failures={len(self.failures)} errors={len(self.errors)} "
            f"time={self.seconds:.1f}s",
            "  per phase: " + ", ".join(f"{k}={v}" for k, v in sorted(self.per_phase.items())),
        ]
        for (label, check, title), sample in self.failures.items():
            lines.append(f"  FAILURE {label} [{check}] {title}\n    {sample}")
        lines.extend(f"  ERROR {e}" for e in self.errors)
        return "\n".join(lines)

    def successes(self, label: str) -> int:
        return sum(n for (op, status), n in self.statuses.items() if op == label and 200 <= status < 300)


def _seed_resources(base: str, headers: dict[str, str]) -> list[str]:
    """A user and a group with that member, so ``{id}`` examples name real resources."""
    json_headers = {**headers, "Content-Type": urns.SCIM_MEDIA_TYPE}
    user = requests.post(
        f"{base}/Users",
        json={"schemas": [urns.USER], "userName": "seeded", "emails": [{"value": "seeded@example.com"}]},
        headers=json_headers,
        timeout=10,
    )
    assert user.status_code == 201, user.text
    user_id = user.json()["id"]
    group = requests.post(
        f"{base}/Groups",
        json={"schemas": [urns.GROUP], "displayName": "Seeded", "members": [{"value": user_id}]},
        headers=json_headers,
        timeout=10,
    )
    assert group.status_code == 201, group.text
    return [user_id, group.json()["id"]]


def _run(doc: dict, base: str, headers: dict[str, str], seed: int) -> FuzzSummary:
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "base-url": base,
            "headers": headers,
            "max-failures": 50,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # /Bulk and /Me are documented as 501 Not Implemented (RFC 7644 §3.7, §3.11): the
            # intended answer, not a server error.
            "operations": [
                {
                    "include-path-regex": "^/(Bulk|Me)$",
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}},
                }
            ],
        }
    )
    loaded = schemathesis.openapi.from_dict(doc, config=config)
    summary = FuzzSummary(seed=seed, operations=sum(1 for _ in loaded.get_all_operations()))
    started = time.monotonic()
    for event in from_schema(loaded).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            summary.examples += len(recorder.cases)
            summary.per_phase[str(event.phase.value)] += len(recorder.cases)
            for case_id, node in recorder.cases.items():
                interaction = recorder.interactions.get(case_id)
                if interaction is not None and interaction.response is not None:
                    summary.statuses[(node.value.operation.label, interaction.response.status_code)] += 1
            for checks in recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        key = (recorder.label, check.name, check.failure_info.failure.title)
                        summary.failures.setdefault(key, check.failure_info.code_sample[:2000])
        elif isinstance(event, events.NonFatalError):
            summary.errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            summary.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            summary.seconds = time.monotonic() - started
    return summary


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_contradiction(app, scim_headers, log_dir, capsys):
    seed = int(os.environ.get("SCIMGATE_FUZZ_SEED") or random.getrandbits(32))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    error_log = log_dir / "scim-error.log"
    errors_before = error_log.read_text() if error_log.exists() else ""
    with live_server(app) as root:
        base = f"{root}/scim/v2"
        seeded = _seed_resources(base, scim_headers)
        response = requests.get(f"{base}/openapi.json", headers=scim_headers, timeout=10)
        assert response.status_code == 200
        doc = response.json()
        doc["components"]["parameters"]["id"]["examples"] = {
            f"seeded{i}": {"value": value} for i, value in enumerate(seeded)
        }
        summary = _run(doc, base, scim_headers, seed)
    with capsys.disabled():
        print("\n" + summary.report())

    assert summary.operations >= 25
    assert summary.examples >= summary.operations * 10
    assert not summary.errors, summary.report()
    assert not summary.failures, summary.report()
    # Writes reached real resources, not only 404s.
    for label in (
        "PUT /Users/{id}",
        "PATCH /Users/{id}",
        "DELETE /Users/{id}",
        "PUT /Groups/{id}",
        "PATCH /Groups/{id}",
        "DELETE /Groups/{id}",
        "GET /Users/{id}",
        "GET /Groups/{id}",
    ):
        assert summary.successes(label) > 0, (label, summary.report())
    errors_after = error_log.read_text() if error_log.exists() else ""
    assert "unexpected exception" not in errors_after[len(errors_before) :]
