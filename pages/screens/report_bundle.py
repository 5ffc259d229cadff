"""Downloading the selected reports as one ZIP or one merged PDF, streamed by the portal's route.

"Download N reports" makes a single-use link (services.reports.bundle_links); the Save button
that follows is a plain link the browser follows, and the route sends the bundle in pieces as it
is packed. Once the link is followed (or the selection changes) the Download button is back.
"""

from __future__ import annotations

import streamlit as st

from pages.common import bundle_route, runtime
from pages.screens import report_view
from services import settings
from services.errors import DomainError
from services.principals import Principal
from services.reports import bundle_links, bundles
from services.wording import plural, size

_LINK_KEY = "reports_bundle_link"
_FOLLOWED_KEY = "reports_bundle_followed"
_FORMATS = {"ZIP of PDFs": "zip", "One merged PDF": "pdf"}


def forget() -> None:
    """Drop a made link (a new search or selection makes it stale)."""
    st.session_state.pop(_LINK_KEY, None)


def _followed(principal: Principal, token: str, redraw: bool) -> None:
    # The browser is on its way to the route: the link is spent, so offer a new one.
    forget()
    if redraw:
        # The results are drawn again next: give a small bundle the moment it takes to be sent,
        # so its reports show as opened.
        bundle_links.wait_until_sent(runtime.database(), principal, token, seconds=3)
        st.session_state[_FOLLOWED_KEY] = True


def offer(principal: Principal, selected: list[int], *, redraw: bool) -> None:
    """The download of the ticked reports. A download marks them opened as it is sent; with
    `redraw` the results are drawn again once the Save link is followed, so their New marks go
    (not in a "New" list, where that would take them and the ticks out of sight)."""
    if st.session_state.pop(_FOLLOWED_KEY, False):
        st.rerun()  # the whole screen: this run may be the page's, not the fragment's
    limits = settings.current()
    db = runtime.database()
    label = st.radio("Download as", list(_FORMATS), horizontal=True, key="bundle_format",
                     label_visibility="collapsed")
    bundle_format = _FORMATS[label]
    purpose = report_view.staff_purpose(principal, key="bundle")
    try:
        chosen = bundle_links.measure(db, principal, selected)
    except DomainError as error:
        st.error(str(error))
        return
    st.text(f"{plural(chosen.report_count, 'report', 'reports')} · {size(chosen.total_bytes)}")
    if chosen.out_of_view:
        st.warning(f"{plural(chosen.out_of_view, 'chosen report is', 'chosen reports are')} no "
                   "longer in your view. Clear the selection and choose again to download.")
        return
    wanted = (tuple(selected), bundle_format, purpose)
    made = st.session_state.get(_LINK_KEY)
    if made is not None and made[0] != wanted:
        forget()
        made = None
    if made is None:
        made = _download_button(principal, selected, chosen, bundle_format, purpose, wanted)
        if made is None:
            st.caption(f"One download holds up to {limits.bulk_download_reports:,} reports or "
                       f"{size(limits.bulk_download_bytes)}.")
            return
    try:
        saved_as = bundle_links.saved_as(db, principal, made[1])
    except DomainError:
        forget()
        st.rerun()
    st.link_button(f"Save {saved_as}", bundle_route.url_for(made[1]), type="primary",
                   key="bundle_save", on_click=_followed, args=(principal, made[1], redraw))
    st.caption("This link works once, for the next five minutes.")


def _download_button(principal: Principal, selected: list[int], chosen: bundle_links.Selection,
                     bundle_format: str, purpose, wanted) -> tuple | None:
    """The Download button; when pressed, the link made (kept for this selection) or None."""
    why_not = None
    try:
        bundles.check_size(chosen.report_count, chosen.total_bytes, bundle_format)
    except DomainError as error:
        why_not = str(error)
    if why_not is None and principal.is_staff and purpose is None:
        why_not = "Choose why you are downloading these reports first."
    pressed = st.button(f"Download {plural(chosen.report_count, 'report', 'reports')}",
                        key="bundle_link", disabled=why_not is not None)
    if why_not is not None:
        st.caption(why_not)  # said on the screen, not in a tooltip: a phone has no hover
        return None
    if not pressed:
        return None
    try:
        token = bundle_links.create(runtime.database(), principal, selected,
                                    bundle_format=bundle_format, staff_purpose=purpose)
    except DomainError as error:
        st.error(str(error))
        return None
    st.session_state[_LINK_KEY] = (wanted, token)
    return wanted, token
