"""Errors of the accounts layer, each with a machine code and a sentence for people."""

from __future__ import annotations


class AccountError(ValueError):
    """An account, group or setting change was invalid; ``status`` is the HTTP status to answer."""

    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


class NotFoundError(AccountError):
    """The user or group named does not exist."""

    def __init__(self, detail: str) -> None:
        super().__init__("not_found", detail, 404)
