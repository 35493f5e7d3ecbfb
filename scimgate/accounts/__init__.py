"""The host application's side of identity: account kinds, roles, groups and settings.

SCIM only pushes users and groups; this package is what those pushes are *for*: who may sign in,
with which role, and which manual admin actions remain once an IdP owns the directory (the
decisions themselves live in ``scimgate.accounts.policies``).
"""
