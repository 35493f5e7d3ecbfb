"""What the browser-facing parts share, free of any blueprint: server-side sessions, the sign-in
throttle, and the one check of a redirect target a user supplied."""
