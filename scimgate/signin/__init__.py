"""Signing in to the application: sessions, the SAML service provider, the development IdP."""
