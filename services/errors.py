"""Domain errors: the pages turn these into the messages people see."""

from __future__ import annotations


class DomainError(Exception):
    """Something the user asked for cannot be done; str(error) is safe to show them."""


class NotFound(DomainError):
    pass


class InvalidInput(DomainError):
    pass


class SignInFailed(DomainError):
    """Always the same message, whatever the reason (unknown user, wrong password, locked...)."""

    MESSAGE = "Sign-in failed. Check your email address and password and try again."

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class SignInLimited(SignInFailed):
    """Too many failed sign-ins came from this client address lately; every sign-in waits."""

    MESSAGE = (SignInFailed.MESSAGE
               + " There have been too many attempts from this network; try again later.")


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
