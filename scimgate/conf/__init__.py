"""Configuration storage and reads: keys, the versioned store, SCIM and SAML settings, credentials."""
