"""Registration codes: support issues one per facility NPI; the code is shown here once."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, runtime
from pages.common.actions import run_action
from services import settings
from services.organizations import registration
from services.policy import Action
from services.principals import Principal
from services.wording import period


def render(principal: Principal) -> None:
    components.guard(principal, Action.ISSUE_REGISTRATION_CODES)
    st.title("Registration codes")
    lifetime = period(settings.current().registration_code_lifetime, "days")
    st.caption("A facility's first person registers its provider group on the Register page "
               "with the facility NPI and this code. The code works once and expires after "
               f"{lifetime}; a new code for the same NPI replaces the old one.")
    with st.form("issue_code", clear_on_submit=True):
        left, right = st.columns(2)
        number = left.text_input("Facility NPI", max_chars=10, key="code_npi")
        name = right.text_input("Facility name", key="code_facility")
        if st.form_submit_button("Issue code", type="primary"):
            run_action(lambda principal: registration.issue_code(
                runtime.database(), principal, npi_number=number, facility_name=name),
                success=lambda issued: (
                    f"Code for NPI {number}: {issued.code} (valid until "
                    f"{components.local_time(issued.expires_at, principal)}). It is shown only now: pass it "
                    "to the facility by phone or a secure channel."))
    codes = registration.list_codes(runtime.database(), principal)
    if codes:
        st.header("Recent codes")
        st.dataframe(pd.DataFrame([{
            "NPI": c.npi, "Facility": c.facility_name, "Issued by": c.issued_by,
            "Issued": components.local_time(c.issued_at, principal),
            "Expires": components.local_time(c.expires_at, principal),
            "State": c.state} for c in codes]), hide_index=True, width="stretch")
