"""SCIM errors as exceptions, one class per ``scimType`` (RFC 7644 §3.12, Table 9).

Every layer raises these; exactly one place (``scimgate.api.errors``) turns them into the
RFC 7644 §3.12 JSON body, so the wire shape cannot drift between endpoints.
"""

from __future__ import annotations

from typing import Any

from scimgate.scim import urns


class ScimError(Exception):
    """An error answered with the SCIM error body; ``scim_type`` is omitted when None.

    ``attribute`` names the attribute concerned, for the refusal line in scim-debug.log only.
    """

    status: int = 400
    scim_type: str | None = None
    attribute: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        scim_type: str | None = None,
        headers: dict[str, str] | None = None,
        attribute: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if scim_type is not None:
            self.scim_type = scim_type
        if attribute is not None:
            self.attribute = attribute
        self.headers = headers or {}

    def to_body(self) -> dict[str, Any]:
        """Return the §3.12 body: ``status`` is a string, ``scimType`` only where defined."""
        body: dict[str, Any] = {"schemas": [urns.ERROR], "status": str(self.status)}
        if self.scim_type:
            body["scimType"] = self.scim_type
        body["detail"] = self.detail
        return body


class InvalidFilter(ScimError):
    """The filter syntax was invalid or the attribute/operator is not supported."""

    scim_type = "invalidFilter"


class TooMany(ScimError):
    """The filter would return more results than the server is willing to process."""

    scim_type = "tooMany"


class Uniqueness(ScimError):
    """A unique attribute value (userName, Group displayName) is already in use."""

    status = 409
    scim_type = "uniqueness"


class Mutability(ScimError):
    """The request tried to change an immutable or read-only attribute."""

    scim_type = "mutability"


class InvalidSyntax(ScimError):
    """The request body could not be parsed or violated the message schema."""

    scim_type = "invalidSyntax"


class InvalidPath(ScimError):
    """A PATCH path was malformed or named an attribute that does not exist."""

    scim_type = "invalidPath"


class NoTarget(ScimError):
    """A PATCH path with a value filter matched nothing where a match is required."""

    scim_type = "noTarget"


class InvalidValue(ScimError):
    """A required value was missing or a value was not compatible with the attribute."""

    scim_type = "invalidValue"


class InvalidVersion(ScimError):
    """The request asked for an unsupported SCIM protocol version."""

    scim_type = "invalidVers"


class NotFound(ScimError):
    """The resource or endpoint does not exist."""

    status = 404


class PreconditionFailed(ScimError):
    """``If-Match`` named a version other than the current one (RFC 7644 §3.14)."""

    status = 412


class Unauthorized(ScimError):
    """Authentication is missing or failed; the reason is logged, never sent (RFC 7644 §2)."""

    status = 401


class Forbidden(ScimError):
    """The caller is authenticated but the operation is not allowed now."""

    status = 403


class MethodNotAllowed(ScimError):
    """The endpoint exists but not for this HTTP method."""

    status = 405


class PayloadTooLarge(ScimError):
    """The request body is larger than ``bulk.maxPayloadSize``-style limits allow."""

    status = 413


class UnsupportedMediaType(ScimError):
    """The request body is declared as something other than JSON."""

    status = 415


class Conflict(ScimError):
    """The request conflicts with the server's state for a reason other than uniqueness."""

    status = 409
