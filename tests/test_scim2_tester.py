"""Run the third-party compliance checker scim2-tester against the app on a loopback port.

One rule of the reference specification conflicts with a scim2-tester check: the reference hides
deactivated users from a group's ``members``, while scim2-tester adds a member with a *random*
``active`` value and expects it back. Such a result is counted as "hidden by the reference rule"
only when every missing member was last seen with ``active: false``; anything else fails.
"""

from __future__ import annotations

import pytest

from tests.support.scim2_tester import assert_checker_passes, report  # noqa: F401 (fixture)


@pytest.mark.slow
def test_scim2_tester_finds_no_failure(app, report):  # noqa: F811
    assert_checker_passes(app, "okta", report)
