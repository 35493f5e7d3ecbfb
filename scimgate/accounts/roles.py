"""The six application roles, ranked so that "the highest group role wins" is a comparison."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A role; the value is what the database and the JSON API carry."""

    SERVER_ADMIN = "server_admin"
    CATALOG_ADMIN = "catalog_admin"
    STEWARD = "steward"
    COMPOSER = "composer"
    EXPLORER = "explorer"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        """The reference's name of the role ("Server Admin")."""
        return LABELS[self]

    @property
    def rank(self) -> int:
        """Higher is more privileged; Viewer is 0."""
        return len(ORDER) - 1 - ORDER.index(self)


ORDER: tuple[Role, ...] = (
    Role.SERVER_ADMIN,
    Role.CATALOG_ADMIN,
    Role.STEWARD,
    Role.COMPOSER,
    Role.EXPLORER,
    Role.VIEWER,
)
LABELS: dict[Role, str] = {
    Role.SERVER_ADMIN: "Server Admin",
    Role.CATALOG_ADMIN: "Catalog Admin",
    Role.STEWARD: "Steward",
    Role.COMPOSER: "Composer",
    Role.EXPLORER: "Explorer",
    Role.VIEWER: "Viewer",
}
DEFAULT_ROLE = Role.VIEWER


def parse_role(value: object) -> Role:
    """Return the role named by ``value`` (its code, e.g. ``server_admin``), or raise ValueError."""
    if isinstance(value, str):
        try:
            return Role(value)
        except ValueError:
            pass
    raise ValueError(f"unknown role {value!r}; valid roles are: {', '.join(r.value for r in ORDER)}")


def highest(roles: list[Role]) -> Role | None:
    """Return the most privileged of ``roles`` (None when empty)."""
    return max(roles, key=lambda r: r.rank) if roles else None
