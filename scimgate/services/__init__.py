"""Business rules and transactions for SCIM resources; no Flask ``request`` in here."""
