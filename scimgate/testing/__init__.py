"""Test support shipped with scimgate, so a plugin's own test suite can drive a real app.

``scimgate.testing.plugin`` is a pytest plugin (registered through the ``pytest11`` entry point, so
it loads wherever scimgate is installed); its fixtures are all named ``scimgate_*`` so they never
clash with a project's own ``app`` or ``client``. ``scimgate.testing.replay`` replays an IdP's
documented request sequence kept as a JSON file; ``scimgate.testing.client`` configures SCIM the
way an administrator would and wraps the Flask test client for ``/scim/v2``.

This package is an edge of the layering: it may import anything in scimgate, nothing imports it.
"""
