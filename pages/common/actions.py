"""What a click does: act as the user signed in at that moment, then say how it went.

A principal captured when the screen was drawn may belong to a session that has since
expired, signed out or lost its user, so a click resumes the session again first. A refusal
is shown in the service's own words: at once, or kept under a key for the next run when the
click is a callback (whatever a callback draws is wiped by the rerun it causes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from pages.common import runtime
from services.errors import DomainError
from services.principals import Principal

Kind = Literal["success", "info", "error"]
Success = str | Callable[[Any], str] | None


@dataclass(frozen=True)
class Done:
    """A service call that went through, with what it returned (which may be None)."""

    result: Any


def run_action(service_call: Callable[[Principal], Any], *, success: Success = None,
               message_key: str | None = None) -> Done | None:
    """Call the service as whoever is signed in now; None when it refused.

    When the session has ended nothing is called: the app reruns and shows the sign-in screen.
    `success` is the text to show (or makes it from the result); without a message_key the
    message is shown at once, with one it waits for show_message on the next run.
    """
    principal = runtime.current_principal()
    if principal is None:
        st.rerun()
    return attempt(lambda: service_call(principal), success=success, message_key=message_key)


def attempt(service_call: Callable[[], Any], *, success: Success = None,
            message_key: str | None = None) -> Done | None:
    """run_action for the screens of people not signed in: no principal to resume."""
    try:
        result = service_call()
    except DomainError as error:
        say("error", str(error), message_key=message_key)
        return None
    if success is not None:
        say("success", success(result) if callable(success) else success, message_key=message_key)
    return Done(result)


def say(kind: Kind, text: str, *, message_key: str | None = None) -> None:
    """Show a message now, or keep it for the next run under message_key."""
    if message_key is None:
        getattr(st, kind)(text)
    else:
        st.session_state[message_key] = (kind, text)


def show_message(message_key: str) -> None:
    """Show, once, the message a click kept for this run."""
    message = st.session_state.pop(message_key, None)
    if message:
        say(*message)
