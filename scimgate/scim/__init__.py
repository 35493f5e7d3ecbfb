"""Protocol code that knows RFC 7643/7644 but neither Flask nor the database."""
