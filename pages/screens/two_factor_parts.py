"""What sign-in and My account both show when someone sets up two-factor sign-in: the QR code
with its key, and the recovery codes (once)."""

from __future__ import annotations

import streamlit as st

from pages.common import components
from services.identity.two_factor import Enrolment

APPS = "an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password, Authy...)"


def show_enrolment(enrolment: Enrolment) -> None:
    st.markdown(f"1. Open {APPS} on your phone and add an account by scanning this code.")
    # Drawn on the server from the secret: the picture goes nowhere but this page.
    st.image(enrolment.qr_png, width=220, caption="Scan with your authenticator app")
    components.literal("Cannot scan it? Type this key into the app instead: "
                       + " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4)),
                       tag="small")
    st.markdown("2. Type the 6-digit code the app now shows for ResultsDesk.")


def show_recovery_codes(codes: list[str], *, file_stem: str) -> None:
    st.warning("Keep these recovery codes somewhere safe, away from your phone. Each one signs you "
               "in once if you lose your phone. They are shown only now.")
    st.code("\n".join(codes), language=None)
    st.download_button("Download the codes as a text file", data="\n".join(codes) + "\n",
                       file_name=f"{file_stem}-recovery-codes.txt", mime="text/plain",
                       on_click="ignore", key="recovery_codes_download")
