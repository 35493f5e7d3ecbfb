"""Database plumbing: request state, connections and transactions, prepared statements."""
