"""The Users screen's list of invitations not yet answered: resend or cancel one.

An entry shows only what the admin typed and chose (address, name, role) and the invitation's
own dates: never whether the address has an account, nor anything about that account.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from pages.screens.users_keys import MESSAGE_KEY, changed
from services import settings
from services.identity import role_invitations
from services.principals import Principal
from services.wording import period

# Session state: bumped when the list changes, so the grid starts over.
_VERSION_KEY = "invitations_version"


def _act(label: str, action, invitation_id: int) -> None:
    run_action(lambda principal: action(runtime.database(), principal, invitation_id=invitation_id),
               success=f"{label}: done.", message_key=MESSAGE_KEY)
    changed()
    # The list changes under the selection: start the next run with nothing ticked.
    st.session_state[_VERSION_KEY] = st.session_state.get(_VERSION_KEY, 0) + 1


def invitations(principal: Principal) -> None:
    st.header("Invitations waiting for an answer")
    rows = role_invitations.waiting(runtime.database(), principal)
    if not rows:
        st.caption("No invitation is waiting for an answer.")
        return
    table = pd.DataFrame([{
        "Email": r.email, "Name (as typed)": r.name, "Role": r.role,
        "State": "Expired" if r.expired else "Invitation sent",
        "Sent": components.utc(r.sent_at), "Expires": components.utc(r.expires_at),
        "Sent by": r.inviter} for r in rows])
    event = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row",
                         key=f"invitations_grid_{st.session_state.get(_VERSION_KEY, 0)}")
    chosen = [rows[i] for i in event.selection.rows if i < len(rows)]
    if not chosen:
        lifetime = period(settings.current().invitation_lifetime, "hours")
        st.caption(f"Select an invitation to send it again (a new link for {lifetime}) or cancel it.")
        return
    picked = chosen[0]
    components.literal(f"Selected: {picked.email}, {picked.role}")
    left, right = st.columns(2)
    left.button("Send again", key=f"invitation_resend_{picked.id}", on_click=_act,
                args=("Invitation sent again", role_invitations.resend, picked.id))
    right.button("Cancel invitation", key=f"invitation_cancel_{picked.id}", on_click=_act,
                 args=("Invitation cancelled", role_invitations.cancel, picked.id))
