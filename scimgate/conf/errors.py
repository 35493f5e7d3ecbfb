"""The one exception type of a refused configuration value.

Defined at the bottom of configuration so that the checks living beside their storage (the SAML
metadata parser in ``scimgate.conf.saml``) and the façade above (``scimgate.configuration_utils``,
which re-exports it under its historical name) raise the same type, caught once by the CLI and
the pages.
"""

from __future__ import annotations


class ScimConfigurationError(ValueError):
    """A configuration value was refused; the message says what is wrong and what is allowed."""
