"""Returns from the staff identity provider (st.login) that have already been used."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, UTCDateTime


class IdentityProviderReturn(Base):
    """One sign-in at the identity provider, used once: it opened a session or was refused.

    Streamlit keeps the provider's identity in its own cookie for 30 days; remembering which
    returns were used means that cookie alone never opens a second ResultsDesk session.
    Stored as a SHA-256 of issuer, subject, issue time and nonce, so nothing here is a secret.
    """

    __tablename__ = "identity_provider_returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
