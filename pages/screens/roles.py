"""The roles matrix, rendered from the same table the services enforce."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components
from services import policy
from services.policy import Action
from services.principals import Principal


def render(principal: Principal) -> None:
    components.guard(principal, Action.VIEW_ROLES)
    st.title("Roles")
    st.write("What each role may do. Provider and client roles apply only inside the user's own "
             "provider group, provider or account.")
    matrix = pd.DataFrame(
        {policy.ROLE_LABELS[role]: ["✓" if action in policy.ROLE_ACTIONS[role] else "" for action in Action]
         for role in policy.Role},
        index=[policy.ACTION_LABELS[action] for action in Action],
    )
    st.dataframe(matrix, width="stretch", height=35 * (len(Action) + 1) + 3)
