"""The three SCIM log files the reference describes, the admin audit trail and SCIM activity."""
