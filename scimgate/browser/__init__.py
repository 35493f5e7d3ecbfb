"""What the browser-facing parts share, free of any blueprint: server-side sessions, the sign-in
throttle, the one check of a redirect target a user supplied, and the one-time use of each SAML
assertion."""
