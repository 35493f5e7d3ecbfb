"""Which column answers each SCIM attribute in a filter or sortBy (RFC 7644 §3.4.2.2).

The filter translator builds SQL from these maps, so a filtered list is one query whatever the
filter; multi-valued attributes stored in other tables become correlated ``EXISTS`` clauses.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from scimgate.models import DirectoryGroup, GroupMembership, ScimGroup, ScimUser, User, UserProfile
from scimgate.scim.filter_sql import AttributeMap, Column, MultiValued


def user_is_active(user: type[User] | User = User, profile: type[UserProfile] | UserProfile = UserProfile):
    """SCIM ``active``: active in the application and not suspended (the reference's rule)."""
    return sa.and_(user.is_active.is_(True), profile.is_suspended.is_(False))


_group_link = aliased(ScimGroup, name="f_group_link")
_group_row = aliased(DirectoryGroup, name="f_group_row")

USER_ATTRIBUTES: AttributeMap = {
    "id": Column(ScimUser.scim_user_uuid, "string", case_exact=True),
    "externalid": Column(ScimUser.external_id, "string", case_exact=True),
    "username": Column(User.username, "string", case_exact=True),
    "name.givenname": Column(User.first_name, "string", case_exact=False),
    "name.familyname": Column(User.last_name, "string", case_exact=False),
    "displayname": Column(UserProfile.display_name, "string", case_exact=False),
    "active": Column(user_is_active(), "boolean", case_exact=False),
    "emails": MultiValued(
        sub_attributes={
            "value": Column(User.email, "string", case_exact=False),
            "type": Column(ScimUser.email_type, "string", case_exact=False),
            "primary": Column(ScimUser.email_primary.is_(True), "boolean", case_exact=False),
        },
        wrap=lambda condition: condition,
    ),
    "groups": MultiValued(
        sub_attributes={
            "value": Column(_group_link.scim_group_uuid, "string", case_exact=True),
            "display": Column(_group_row.external_unique_name, "string", case_exact=True),
        },
        wrap=lambda condition: sa.exists(
            sa.select(1)
            .select_from(GroupMembership)
            .join(_group_row, _group_row.id == GroupMembership.group_id)
            .join(_group_link, _group_link.group_id == _group_row.id)
            .where(GroupMembership.user_id == User.id, condition)
        ),
    ),
    "meta.created": Column(ScimUser.created, "dateTime", case_exact=False),
    "meta.lastmodified": Column(ScimUser.last_modified, "dateTime", case_exact=False),
}

_member_link = aliased(ScimUser, name="f_member_link")
_member_user = aliased(User, name="f_member_user")
_member_profile = aliased(UserProfile, name="f_member_profile")

MEMBER_SUB_ATTRIBUTES = {
    "value": Column(_member_link.scim_user_uuid, "string", case_exact=True),
    "display": Column(_member_profile.display_name, "string", case_exact=False),
    "type": Column(sa.literal("User"), "string", case_exact=True),
}


def _members_exists(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Members are the group's *active* users, exactly as responses list them."""
    return sa.exists(
        sa.select(1)
        .select_from(GroupMembership)
        .join(_member_link, _member_link.user_id == GroupMembership.user_id)
        .join(_member_user, _member_user.id == GroupMembership.user_id)
        .join(_member_profile, _member_profile.user_id == GroupMembership.user_id)
        .where(
            GroupMembership.group_id == DirectoryGroup.id,
            user_is_active(_member_user, _member_profile),
            condition,
        )
    )


GROUP_ATTRIBUTES: AttributeMap = {
    "id": Column(ScimGroup.scim_group_uuid, "string", case_exact=True),
    "externalid": Column(ScimGroup.external_id, "string", case_exact=True),
    "displayname": Column(DirectoryGroup.external_unique_name, "string", case_exact=True),
    "members": MultiValued(sub_attributes=MEMBER_SUB_ATTRIBUTES, wrap=_members_exists),
    "meta.created": Column(ScimGroup.created, "dateTime", case_exact=False),
    "meta.lastmodified": Column(ScimGroup.last_modified, "dateTime", case_exact=False),
}

# Filters inside a PATCH path on members (``members[value eq "..."]``) select membership rows.
MEMBER_FILTER_ATTRIBUTES: AttributeMap = {key: spec for key, spec in MEMBER_SUB_ATTRIBUTES.items()}
MEMBER_FILTER_TABLES = (_member_link, _member_user, _member_profile)
