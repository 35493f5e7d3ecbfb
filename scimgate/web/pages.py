"""What every server-rendered page shares: the layout's context, error pages, paging, policy reasons.

Pages never decide what is allowed: ``policy_reason`` asks ``scimgate.accounts.policies`` (the same
``require`` the JSON API calls) and returns the refusal's sentence, which the page shows beside a
disabled control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from scimgate.accounts import policies
from scimgate.accounts.roles import ORDER, Role
from scimgate.extensions import db
from scimgate.signin import local_redirect
from scimgate.signin import session as session_auth
from scimgate.web import timefmt

PER_PAGE = 25


def _layout_context() -> dict[str, Any]:
    def account() -> Any:
        return session_auth.current_account()

    def is_admin() -> bool:
        current = session_auth.current_account()
        return current is not None and current.role is Role.SERVER_ADMIN

    return {
        "current_account": account,
        "is_admin": is_admin,
        "page_csrf_token": session_auth.csrf_token,
        "roles": ORDER,
    }


def utc(value: timefmt.Moment) -> Markup:
    """A time on a page: ``<time>`` with the one people's format (``timefmt``), its ISO 8601 value
    in ``datetime``; ``scimgate.js`` adds the reader's local time as the hover title."""
    if timefmt.as_utc(value) is None:
        return Markup("")
    return Markup('<time datetime="{}">{}</time>').format(
        timefmt.for_machines(value), timefmt.for_people(value)
    )


def home() -> Response:
    """``/``: the account page for a signed-in person, the sign-in page for anyone else."""
    signed_in = session_auth.current_account() is not None
    return redirect(url_for("signin.account" if signed_in else "signin.login"))


def init_app(app: Flask) -> None:
    """Offer the layout helpers to every template; serve ``/``."""
    app.context_processor(_layout_context)
    app.add_template_filter(utc, "utc")
    app.add_url_rule("/", "home", home)


def error_page(status: int, title: str, message: str) -> tuple[str, int]:
    """Render the page that says why a request was refused."""
    return render_template("error.html", title=title, message=message, status=status), status


def http_error_page(exc: HTTPException) -> tuple[str, int]:
    """Render a routing error (404, 405, ...) in the site's layout."""
    return error_page(exc.code or 500, exc.name, exc.description or exc.name)


def policy_reason(key: str, state: policies.State, *, target_pushed: bool | None = None) -> str | None:
    """Why the policies refuse ``key`` now (their own sentence), or None when it is allowed."""
    try:
        policies.require(key, state, target_pushed=target_pushed)
    except policies.PolicyRefusal as refusal:
        return sentence(refusal.detail)
    return None


def sentence(text: str) -> str:
    """Capitalize a policy detail for display ("the Display Name ..." -> "The Display Name ...")."""
    return text[:1].upper() + text[1:] if text else text


def local_path(value: str | None, default: str) -> str:
    """Keep a same-site path (for "back to the list" redirects), else ``default``."""
    return local_redirect.local_target(value, default)


def page_number() -> int:
    """The ``page`` query argument (1 when absent or invalid)."""
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def like_pattern(text: str) -> str:
    """A LIKE pattern that matches ``text`` anywhere, with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.number - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.per_page)


def paginate(statement: sa.Select, number: int, per_page: int = PER_PAGE) -> Page:
    """Run ``statement`` for one page (two statements: the count and the page)."""
    total = (
        db.session.scalar(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())) or 0
    )
    number = min(number, max(1, math.ceil(total / per_page)))
    rows = db.session.execute(statement.limit(per_page).offset((number - 1) * per_page)).unique()
    return Page(items=list(rows.scalars()), number=number, per_page=per_page, total=total)
