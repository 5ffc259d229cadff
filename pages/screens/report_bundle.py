"""Downloading the selected reports as one ZIP or one merged PDF, built only when asked."""

from __future__ import annotations

import streamlit as st

from pages.common import runtime
from pages.screens import report_view
from services import settings
from services.errors import DomainError
from services.principals import Principal
from services.reports import bundles
from services.wording import plural, size

_BUNDLE_KEY = "reports_bundle"
_FORMATS = {"ZIP of PDFs": "zip", "One merged PDF": "pdf"}


def forget() -> None:
    """Drop a prepared bundle (a new search or selection makes it stale)."""
    st.session_state.pop(_BUNDLE_KEY, None)


def offer(principal: Principal, selected: list[int], *, redraw: bool) -> None:
    """The download of the ticked reports. Preparing one marks them opened; with `redraw` the
    results are drawn again at once, so their New marks go (not in a "New" list, where that would
    take them, the ticks and the prepared file out of sight before it is saved)."""
    limits = settings.current()
    choice, prepare = st.columns([2, 1])
    label = choice.radio("Download as", list(_FORMATS), horizontal=True, key="bundle_format",
                         label_visibility="collapsed")
    bundle_format = _FORMATS[label]
    purpose = report_view.staff_purpose(principal, key="bundle")
    wanted = (tuple(selected), bundle_format, purpose)
    prepared = st.session_state.get(_BUNDLE_KEY)
    if prepared is not None and prepared[0] != wanted:
        forget()
        prepared = None
    if prepared is None:
        blocked = principal.is_staff and purpose is None
        if prepare.button(f"Prepare download ({len(selected)})", key="bundle_prepare",
                          disabled=blocked):
            _build(principal, selected, bundle_format, purpose, wanted)
            prepared = st.session_state.get(_BUNDLE_KEY)
            if prepared is not None and redraw:
                st.rerun()  # the whole screen: this run may be the page's, not the fragment's
        st.caption(f"One download holds up to {limits.bulk_download_reports:,} reports or "
                   f"{size(limits.bulk_download_bytes)}.")
    if prepared is not None:
        bundle = prepared[1]
        st.success(f"Ready: {plural(bundle.report_count, 'report', 'reports')}, "
                   f"{size(len(bundle.data))}")
        st.download_button(f"Save {bundle.file_name}", data=bundle.data, file_name=bundle.file_name,
                           mime=bundle.mime_type, on_click="ignore", type="primary",
                           key="bundle_save")


def _build(principal: Principal, selected: list[int], bundle_format: str, purpose, wanted) -> None:
    # The principal of this run: the fragment resumed the session a moment ago.
    with st.status(f"Preparing {plural(len(selected), 'report', 'reports')}…", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(done: int, total: int) -> None:
            bar.progress(done / total, text=f"{done} of {total}")

        try:
            bundle = bundles.build(runtime.database(), principal, selected,
                                          bundle_format=bundle_format,
                                          blob_store=runtime.blob_store(),
                                          staff_purpose=purpose, progress=progress)
        except DomainError as error:
            status.update(label=str(error), state="error")
            return
        status.update(label="Prepared", state="complete", expanded=False)
    st.session_state[_BUNDLE_KEY] = (wanted, bundle)
