"""A small exception hierarchy whose messages are written for the user who caused them."""

from __future__ import annotations


class SitesError(Exception):
    """Base of every error the register reports to a user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(SitesError):
    """A value a user supplied does not fit the field it was given for."""

    def __init__(self, field: str, received: object, expected: str):
        self.field = field
        self.received = received
        self.expected = expected
        super().__init__(f"{field}: expected {expected}, received {received!r}")


class PermissionDenied(SitesError):
    """The acting user's role or region scope does not allow the action."""


class NotFound(SitesError):
    """A record the user named does not exist."""


class StaleWrite(SitesError):
    """Someone else saved the record after the user loaded it; nothing was overwritten."""

    def __init__(self, code: str, expected: int, current: int, changed: dict[str, tuple]):
        self.code = code
        self.expected = expected
        self.current = current
        self.changed = changed
        fields = ", ".join(sorted(changed)) or "no visible fields"
        super().__init__(
            f"site {code} was changed by someone else (you loaded version {expected}, "
            f"it is now version {current}; changed since: {fields}). Nothing was saved: "
            "reload the site and apply your edit again."
        )


class Conflict(SitesError):
    """The write would break a uniqueness rule, such as a repeated site code."""


class SignInRefused(SitesError):
    """A sign-in failed. One message for every reason (unknown user, wrong password, locked, deactivated), so that
    the answer does not tell whether an account exists."""
