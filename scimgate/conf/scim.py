"""The SCIM settings every layer reads on each request: the active client and the sync switch.

They live here, beside their storage, so that logs (the request line names the client), the
audit trail (``scim:<client>:...``) and accounts (sync masks two settings) can read them without
importing ``scimgate.configuration_utils``, the validating façade that sits above them all and
re-exports these readers under the reference's names.
"""

from __future__ import annotations

from scimgate.conf import keys as K
from scimgate.conf import store as conf_store
from scimgate.db.request_state import current_state

DEFAULT_CLIENT = "okta"  # the reference's client when an admin never chose one


def get_scim_client() -> str:
    """Return the configured SCIM client, ``okta`` when none was chosen.

    The one place the active client is looked up: within a request it is read once and kept in
    the request's state (``conf.store`` forgets it with the snapshot when the request itself
    writes configuration), so the route, its plugins' hooks, the log line and the audit row all
    see the same client.
    """
    state = current_state()
    if state is not None and state.client is not None:
        return state.client
    client = conf_store.get_str(K.SCIM_CLIENT) or DEFAULT_CLIENT
    if state is not None:
        state.client = client
    return client


def is_scim_client_chosen() -> bool:
    """Tell whether an admin explicitly chose the client (else the default, okta, applies)."""
    return conf_store.get_str(K.SCIM_CLIENT) is not None


def check_if_scim_sync_is_enabled() -> bool:
    """Return whether /scim/v2 currently accepts requests."""
    return conf_store.get_bool(K.SCIM_SYNC_ENABLED, False)
