"""Domain errors: the pages turn these into the messages people see."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user asked for cannot be done; str(error) is safe to show them."""


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class ReportFileUnreadable(DomainError):
    """A report's stored file fails its check (changed, swapped or its key missing)."""

    MESSAGE = "This report's file could not be read. Please let support know which report it is."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class SignInFailed(DomainError):
    """Always the same message, whatever the reason (unknown user, wrong password, locked...)."""

    MESSAGE = "Sign-in failed. Check your email address and password and try again."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class SignInLimited(SignInFailed):
    """Too many failed sign-ins came from this client address lately; every sign-in waits."""

    MESSAGE = (SignInFailed.MESSAGE
               + " There have been too many attempts from this network; try again later.")


class StaffSignInRefused(DomainError):
    """The identity provider's answer does not match a ResultsDesk staff account; the same
    message whatever the reason (unknown or unverified email, no staff role, account closed)."""

    MESSAGE = ("Staff sign-in did not work for this account. Use the work account whose email "
               "address your ResultsDesk staff account has, or ask support to check it.")

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class HandoffRefused(DomainError):
    """A sign-in hand-off code that is unknown, expired or already used."""

    MESSAGE = "That sign-in link has expired or was already used. Please sign in again."

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(self.MESSAGE)


class SessionEnded(DomainError):
    """The browser's session token no longer opens a session."""

    MESSAGES = {
        "idle": "You were signed out after a period of inactivity. Please sign in again.",
        "absolute": "Your session reached its maximum length. Please sign in again.",
        # Neutral on purpose: the one refused that often learns nothing about the threshold.
        "probing": "Your session has ended. Please sign in again.",
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(self.MESSAGES.get(reason, "Please sign in."))


class PermissionDenied(DomainError):
    """The acting user may not do this; carries what the audit trail records about it."""

    def __init__(self, *, actor_user_id: int | None, actor_email: str | None, action: str,
                 target_type: str | None = None, target_id: str | int | None = None,
                 session_id: int | None = None) -> None:
        self.actor_user_id = actor_user_id
        self.session_id = session_id
        self.actor_email = actor_email
        self.action = action
        self.target_type = target_type
        self.target_id = None if target_id is None else str(target_id)
        super().__init__("You do not have permission to do that.")


class ReportWithdrawn(PermissionDenied):
    """A report the principal was sent (or whose clinic they work at) that has left their view
    because the clinic withdrew it or replaced it by a correction: refused like any report out of
    view, and audited so, but the message says what happened instead of "no permission"."""

    def __init__(self, denied: PermissionDenied, message: str,
                 replaced_by: int | None = None) -> None:
        super().__init__(actor_user_id=denied.actor_user_id, actor_email=denied.actor_email,
                         action=denied.action, target_type=denied.target_type,
                         target_id=denied.target_id, session_id=denied.session_id)
        self.args = (message,)
        self.replaced_by = replaced_by

    def __str__(self) -> str:
        return self.args[0]
