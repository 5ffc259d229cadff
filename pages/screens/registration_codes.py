"""Registration codes: support issues one per facility NPI; the code is shown here once."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action, show_message
from services import settings
from services.organizations import registration
from services.policy import Action
from services.principals import Principal
from services.wording import period

# Session state: the form's fields, and the message an issue leaves for the next run.
_NPI_KEY, _NAME_KEY, _MESSAGE_KEY = "code_npi", "code_facility", "code_message"


def _issue() -> None:
    """Issue a code for the typed NPI; the form empties only once a code was issued."""
    number = (st.session_state.get(_NPI_KEY) or "").strip()
    name = st.session_state.get(_NAME_KEY) or ""

    def issue(principal: Principal) -> tuple[str, str]:
        issued = registration.issue_code(runtime.database(), principal, npi_number=number,
                                         facility_name=name)
        return issued.code, components.local_time(issued.expires_at, principal)

    done = run_action(issue, success=lambda issued: (
        f"Code for NPI {number}: {issued[0]} (valid until {issued[1]}). It is shown only now: "
        "pass it to the facility by phone or a secure channel."), message_key=_MESSAGE_KEY)
    if done is not None:
        st.session_state[_NPI_KEY] = st.session_state[_NAME_KEY] = ""


def render(principal: Principal) -> None:
    components.guard(principal, Action.ISSUE_REGISTRATION_CODES)
    st.title("Registration codes")
    lifetime = period(settings.current().registration_code_lifetime, "days")
    st.caption("A facility's first person registers its provider group on the Register page "
               "with the facility NPI and this code. The code works once and expires after "
               f"{lifetime}; a new code for the same NPI replaces the old one.")
    show_message(_MESSAGE_KEY)
    # Not cleared on submit: a mistyped NPI is corrected, not typed again with the name.
    with st.form("issue_code"):
        left, right = st.columns(2)
        left.text_input("Facility NPI", max_chars=10, key=_NPI_KEY)
        right.text_input("Facility name", key=_NAME_KEY)
        st.form_submit_button("Issue code", type="primary", on_click=_issue)
    codes = registration.list_codes(runtime.database(), principal)
    if codes:
        st.header("Recent codes")
        st.dataframe(pd.DataFrame([{
            "NPI": c.npi, "Facility": c.facility_name, "Issued by": c.issued_by,
            "Issued": components.local_time(c.issued_at, principal),
            "Expires": components.local_time(c.expires_at, principal),
            "State": c.state} for c in codes]), hide_index=True, width="stretch")
