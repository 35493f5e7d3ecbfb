"""What scimgate supports of the User and Group schemas (RFC 7643 §4, §8.7.1), in one place.

The same definitions drive ``/Schemas``, ``attributes``/``excludedAttributes`` projection and the
PATCH engine, so discovery cannot claim more (or less) than the server does. Where the reference
specification differs from RFC 7643 it wins and is stated here: ``userName`` and Group
``displayName`` are case-sensitive (caseExact true) and only one email is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scimgate.scim import urns


@dataclass(frozen=True)
class Attribute:
    """One attribute definition with its RFC 7643 §7 characteristics."""

    name: str
    type: str
    description: str
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()

    def sub(self, name: str) -> Attribute | None:
        """Return the sub-attribute called ``name`` (attribute names are case-insensitive)."""
        lowered = name.lower()
        return next((s for s in self.sub_attributes if s.name.lower() == lowered), None)

    @property
    def read_only(self) -> bool:
        """True when clients may never set this attribute."""
        return self.mutability == "readOnly"

    def to_scim(self) -> dict[str, Any]:
        """Render the attribute as RFC 7643 §7 describes it."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
        }
        if self.type in {"string", "reference", "binary"}:
            out["caseExact"] = self.case_exact
        if self.canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            out["referenceTypes"] = list(self.reference_types)
        out["mutability"] = self.mutability
        out["returned"] = self.returned
        if self.type != "complex":
            out["uniqueness"] = self.uniqueness
        if self.sub_attributes:
            out["subAttributes"] = [s.to_scim() for s in self.sub_attributes]
        return out


@dataclass(frozen=True)
class ResourceSchema:
    """A resource type's core schema: its URN, endpoint and supported attributes."""

    id: str
    name: str
    resource_type: str
    endpoint: str
    description: str
    attributes: tuple[Attribute, ...]
    common: tuple[Attribute, ...] = field(default=())

    def attribute(self, name: str) -> Attribute | None:
        """Return a top-level attribute (core or common) by case-insensitive name."""
        lowered = name.lower()
        for attr in (*self.attributes, *self.common):
            if attr.name.lower() == lowered:
                return attr
        return None

    def to_scim(self, location: str) -> dict[str, Any]:
        """Render the schema resource (RFC 7643 §7)."""
        return {
            "schemas": [urns.SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_scim() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": location},
        }


# Common attributes (RFC 7643 §3.1): served on every resource, not listed in /Schemas attributes.
_COMMON = (
    Attribute(
        "id",
        "string",
        "Unique identifier assigned by scimgate.",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    Attribute("externalId", "string", "Identifier assigned by the provisioning client.", case_exact=True),
    Attribute(
        "meta",
        "complex",
        "Resource metadata.",
        mutability="readOnly",
        sub_attributes=(
            Attribute("resourceType", "string", "The resource type.", case_exact=True, mutability="readOnly"),
            Attribute("created", "dateTime", "When the resource was added.", mutability="readOnly"),
            Attribute(
                "lastModified", "dateTime", "When the resource was last changed.", mutability="readOnly"
            ),
            Attribute(
                "location",
                "reference",
                "The resource's URI.",
                case_exact=True,
                mutability="readOnly",
                reference_types=("uri",),
            ),
            Attribute(
                "version",
                "string",
                "The resource's version (its ETag).",
                case_exact=True,
                mutability="readOnly",
            ),
        ),
    ),
)

USER = ResourceSchema(
    id=urns.USER,
    name="User",
    resource_type="User",
    endpoint="/Users",
    description=(
        "User account. scimgate stores userName, name.givenName, name.familyName, displayName, "
        "one email and active; other RFC 7643 attributes are accepted and ignored."
    ),
    common=_COMMON,
    attributes=(
        Attribute(
            "userName",
            "string",
            "Unique login name; case-sensitive as the served application treats it; at most 150 characters.",
            required=True,
            case_exact=True,
            uniqueness="server",
        ),
        Attribute(
            "name",
            "complex",
            "The user's name.",
            sub_attributes=(
                Attribute("givenName", "string", "First name; at most 150 characters."),
                Attribute("familyName", "string", "Last name; at most 150 characters."),
            ),
        ),
        Attribute("displayName", "string", "Name shown in the application; at most 200 characters."),
        Attribute(
            "emails",
            "complex",
            "Email addresses. Only one is stored: the primary one, or else the alphabetically first; "
            "at most 254 characters.",
            multi_valued=True,
            sub_attributes=(
                Attribute("value", "string", "The email address."),
                Attribute(
                    "type", "string", "A label such as 'work'.", canonical_values=("work", "home", "other")
                ),
                Attribute("primary", "boolean", "The primary flag the client gave the stored address."),
            ),
        ),
        Attribute(
            "active",
            "boolean",
            "False when the user is deactivated or suspended and cannot sign in. Always has a value: "
            "true when omitted on create; it cannot be removed (replace it with false instead).",
            required=True,
        ),
        Attribute(
            "groups",
            "complex",
            "Groups the user belongs to; read-only, managed through /Groups.",
            multi_valued=True,
            mutability="readOnly",
            sub_attributes=(
                Attribute("value", "string", "The group's id.", case_exact=True, mutability="readOnly"),
                Attribute(
                    "$ref",
                    "reference",
                    "The group's URI.",
                    case_exact=True,
                    mutability="readOnly",
                    reference_types=("Group",),
                ),
                Attribute("display", "string", "The group's displayName.", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP = ResourceSchema(
    id=urns.GROUP,
    name="Group",
    resource_type="Group",
    endpoint="/Groups",
    description="Directory group. Members are Users only; nested groups are ignored.",
    common=_COMMON,
    attributes=(
        Attribute(
            "displayName",
            "string",
            "Unique, case-sensitive group name; at most 1000 characters.",
            required=True,
            case_exact=True,
            uniqueness="server",
        ),
        Attribute(
            "members",
            "complex",
            "Active users in the group (deactivated or suspended members are kept but not listed).",
            multi_valued=True,
            sub_attributes=(
                Attribute(
                    "value", "string", "The member's User id.", case_exact=True, mutability="immutable"
                ),
                Attribute(
                    "$ref",
                    "reference",
                    "The member's URI.",
                    case_exact=True,
                    mutability="immutable",
                    reference_types=("User",),
                ),
                Attribute(
                    "display",
                    "string",
                    "The member's display name; returned only when asked for in 'attributes'.",
                    mutability="readOnly",
                    returned="request",
                ),
                Attribute(
                    "type", "string", "Always 'User'.", mutability="immutable", canonical_values=("User",)
                ),
            ),
        ),
    ),
)

RESOURCE_SCHEMAS: dict[str, ResourceSchema] = {USER.id: USER, GROUP.id: GROUP}
