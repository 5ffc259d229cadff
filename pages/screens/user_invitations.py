"""The Users screen's list of invitations not yet answered: resend or cancel one.

An entry shows only what the admin typed and chose (address, name, role) and the invitation's
own dates: never whether the address has an account, nor anything about that account.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from pages.common.selection import Choice
from pages.screens.users_keys import MESSAGE_KEY
from services import settings
from services.identity import role_invitations
from services.principals import Principal
from services.wording import period

# Session state: the invitation chosen, by id.
_CHOICE = Choice(grid_key="invitations_grid", chosen_key="invitation_chosen",
                 label=lambda invitation_id: "The invitation you had selected", typed=True)


def _act(label: str, action, invitation_id: int) -> None:
    run_action(lambda principal: action(runtime.database(), principal, invitation_id=invitation_id),
               success=f"{label}: done.", message_key=MESSAGE_KEY)


def invitations(principal: Principal) -> None:
    st.header("Invitations waiting for an answer")
    rows = role_invitations.waiting(runtime.database(), principal)
    if not rows:
        _CHOICE.resolve([])
        st.caption("No invitation is waiting for an answer.")
        return
    table = pd.DataFrame([{
        "Email": r.email, "Name (as typed)": r.name, "Role": r.role,
        "State": "Expired" if r.expired else "Invitation sent",
        "Sent": components.local_time(r.sent_at, principal),
        "Expires": components.local_time(r.expires_at, principal),
        "Sent by": r.inviter} for r in rows])
    ticked = _CHOICE.grid(table, [r.id for r in rows],
                          labels={r.id: f"The invitation to {r.email} ({r.role})" for r in rows})
    chosen = [row for row in rows if row.id in ticked]
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
