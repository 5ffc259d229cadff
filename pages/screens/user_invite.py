"""Inviting someone: an email link valid for 48 hours, with one role the admin may give."""

from __future__ import annotations

import streamlit as st

from pages.common import runtime
from services import memberships
from services.errors import DomainError
from services.principals import Principal


def invite(principal: Principal) -> None:
    st.subheader("Invite someone")
    offered = memberships.grantable(runtime.database(), principal)
    if not offered:
        st.caption("There is no role you may give.")
        return
    with st.form("invite", clear_on_submit=True):
        left, right = st.columns(2)
        email = left.text_input("Email address (their user ID)", key="invite_email")
        name = right.text_input("Name", key="invite_name")
        phone = left.text_input("Phone (optional)", key="invite_phone")
        label = right.selectbox("Role to give", [label for label, _ in offered], key="invite_role")
        if st.form_submit_button("Send invitation"):
            current = runtime.current_principal()
            if current is None:
                st.rerun()
            try:
                memberships.invite(runtime.database(), current, email=email, name=name,
                                   phone=phone, role=dict(offered)[label])
            except DomainError as error:
                st.error(str(error))
            else:
                st.success("Invitation sent. The link works for 48 hours.")
