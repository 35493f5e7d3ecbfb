"""The scim2-tester compliance run, once with each built-in client active.

A plugin must never make the server less compliant: a plugin's normalizations apply to what its
IdP sends, and the checker's RFC-shaped requests must still pass through them unharmed.
"""

from __future__ import annotations

import pytest

from scimgate.plugin_host import BUILTIN_CLIENTS
from tests.support.scim2_tester import assert_checker_passes, report  # noqa: F401 (fixture)


@pytest.mark.slow
@pytest.mark.parametrize("client_name", BUILTIN_CLIENTS)
def test_scim2_tester_passes_with_each_client_active(app, client_name, report):  # noqa: F811
    assert_checker_passes(app, client_name, report)
