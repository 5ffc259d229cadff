"""One report: its details, a picture of its first page and its PDF (staff name a purpose first)."""

from __future__ import annotations

import html

import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, say
from pages.screens import report_changes, reports_keys
from services.errors import DomainError, PermissionDenied, ReportWithdrawn
from services.mail import support_contact
from services.policy import Action
from services.principals import Principal
from services.privacy import incidents
from services.reports import access
from services.reports.retention import RETENTION_PERIOD
from services.statuses import ReportStatus
from services.wording import period, size

_RETENTION = period(RETENTION_PERIOD, "days")

# Session state. The report open above the results (the Reports screen sets it); what this
# browser session has already opened of it, so reruns of the results (a click on the grid, the
# pager) neither fetch nor audit the same report again; the open report's message for the next
# run; and the thanks for a report removed from view, which the results show once it is gone.
OPEN_KEY = "reports_open"
_SHOWN_KEY = "report_view_shown"
_MESSAGE_KEY = "report_message"
FLAGGED_KEY = "reports_flagged"
_ERROR_NOTE_KEY = "error_note"

_NOT_YOURS = "This report is not available to you."
NO_PREVIEW = "No preview for this report. Download the PDF to read it."


def staff_purpose(principal: Principal, *, key: str) -> access.Purpose | None:
    """Staff choose why they open a report's PDF; None until they have (or for non-staff)."""
    if not principal.is_staff:
        return None
    reason_column, reference_column = st.columns([3, 1])
    reason = reason_column.selectbox("Why are you opening this report?", access.STAFF_PURPOSES,
                                     index=None, key=f"{key}_purpose",
                                     placeholder="Choose a purpose (recorded in the audit trail)")
    reference = reference_column.text_input("Ticket reference", key=f"{key}_reference", max_chars=30)
    if reason is None:
        return None
    try:
        return access.purpose(reason, reference)
    except DomainError as error:
        st.error(str(error))
        return None


def _details_table(principal: Principal, detail: access.ReportDetail) -> None:
    rows = [
        ("Report", f"{detail.type_label} · report {detail.id}"),
        ("Patient", detail.patient_name),
        ("Date of birth", detail.date_of_birth.isoformat()),
        ("Employee ID", detail.employee_id),
        ("Service date", detail.service_date.isoformat()),
        ("Posted", components.local_time(detail.posted_at, principal)),
        ("Provider", f"{detail.provider_name} (NPI {detail.provider_npi})"),
        ("State", detail.state),
        ("Injury", "Injury" if detail.injury else "Non-injury"),
        ("Claim number", detail.claim_number or "—"),
        ("Sent to", ", ".join(detail.recipients) or "—"),
        ("Pages", str(detail.page_count)),
        ("File size", size(detail.file_size)),
    ]
    if detail.corrects_report_id is not None:
        rows.append(("Corrected", f"Replaces report {detail.corrects_report_id}"))
    if detail.status != ReportStatus.AVAILABLE:
        rows.append(("Status", detail.status_words))
    st.html("<table>" + "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                                f"<td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>")


def open_report(report_id: int, purpose: access.Purpose | None = None) -> None:
    """Open a report above the results; a purpose given (an incident's link) starts chosen."""
    close()
    st.session_state[OPEN_KEY] = report_id
    if purpose is not None:
        # Widget values set before the widgets draw: the person sees them chosen and may change them.
        st.session_state[f"report_{report_id}_purpose"] = purpose.reason
        st.session_state[f"report_{report_id}_reference"] = purpose.reference


def show(principal: Principal, report_id: int) -> None:
    """The open report above the results; refused reports say so and are audited by the service."""
    with st.container(border=True, key="report_open_panel"):
        st.button("Close report", key="report_close", on_click=close)
        message = st.session_state.pop(_MESSAGE_KEY, None)
        if message:
            say(*message)  # a refusal too: the report stays open beside it
        shown = st.session_state.get(_SHOWN_KEY)
        if shown is None or shown["id"] != report_id:
            told = None
            try:
                detail = access.open_report(runtime.database(), principal, report_id)
            except ReportWithdrawn as withdrawn:
                # Sent to this person, then withdrawn or replaced by the clinic: say so.
                detail, told = None, (str(withdrawn), withdrawn.replaced_by)
            except PermissionDenied:
                detail = None  # refused and audited once; later reruns only repeat the message
            shown = st.session_state[_SHOWN_KEY] = {"id": report_id, "detail": detail,
                                                    "told": told}
            _scroll_here()
        detail = shown["detail"]
        if detail is None:
            _refusal(shown)
            return
        # The type's name is typed by a system admin (Report types): shown as typed, never as
        # Markdown.
        components.literal(f"{detail.type_label}, {detail.service_date:%Y-%m-%d}", tag="h2")
        info, picture = st.columns([2, 3])
        with info:
            _details_table(principal, detail)
            purpose = staff_purpose(principal, key=f"report_{report_id}")
            if principal.is_staff and purpose is None:
                st.info("Choose a purpose to see and download the PDF.")
            else:
                _download(detail, purpose)
            if principal.account_links and detail.status == ReportStatus.AVAILABLE:
                _received_in_error(report_id)
            if detail.status == ReportStatus.ARCHIVED and principal.can(Action.REDELIVER_REPORTS):
                st.button(f"Re-deliver for {_RETENTION}", key="report_redeliver", on_click=_redeliver,
                          args=(report_id,))
            report_changes.offer(principal, detail, reopen=_reopen, message_key=_MESSAGE_KEY)
        with picture:
            if not principal.is_staff or purpose is not None:
                _preview(principal, shown, purpose)


def _refusal(shown: dict) -> None:
    told = shown.get("told")
    if told is None:
        st.error(_NOT_YOURS)
        return
    text, replaced_by = told
    st.warning(text)
    if replaced_by is not None:
        st.button(f"Open report {replaced_by}", key=f"report_open_correction_{replaced_by}",
                  type="primary", on_click=open_report, args=(replaced_by,))


_RESULTS_COUNT_KEY = reports_keys.COUNT_KEY


def _reopen(report_id: int) -> None:
    """After a correction or a withdrawal: show the report as it now is (fresh from the service),
    and count the results again (a correction is one more report in the clinic's list)."""
    open_report(report_id)
    st.session_state.pop(_RESULTS_COUNT_KEY, None)


def _scroll_here() -> None:
    """Bring a report just opened into view: the button that opened it may sit a screen below."""
    # The margin keeps "Close report" clear of the page's fixed header.
    st.html("<script>const panel = document.querySelector('.st-key-report_open_panel');"
            "if (panel) { panel.style.scrollMarginTop = '4.5rem';"
            " panel.scrollIntoView({block: 'start'}); }</script>", unsafe_allow_javascript=True)


def close() -> None:
    st.session_state.pop(OPEN_KEY, None)
    st.session_state.pop(_SHOWN_KEY, None)
    confirm.forget()  # a question about the report closed is no longer asked


def _download(detail: access.ReportDetail, purpose: access.Purpose | None) -> None:
    db, resume, store, report_id = (runtime.database(), runtime.principal_at_click(),
                                    runtime.blob_store(), detail.id)

    def pdf() -> bytes:
        # Runs when the button is pressed: the session is checked and the download audited then.
        return access.pdf_bytes(db, resume(), report_id, blob_store=store,
                                       staff_purpose=purpose)[1]

    st.download_button("Download PDF", data=pdf, file_name=detail.file_name,
                       mime="application/pdf", on_click="ignore", type="primary",
                       key=f"report_download_{report_id}")


def _preview(principal: Principal, shown: dict, purpose: access.Purpose | None) -> None:
    detail = shown["detail"]
    if shown.get("page_purpose", False) != purpose:
        try:
            shown["page"] = access.first_page(runtime.database(), principal, detail.id,
                                                     blob_store=runtime.blob_store(),
                                                     staff_purpose=purpose)
        except DomainError as error:
            st.warning(str(error))
            return
        shown["page_purpose"] = purpose
    page = shown["page"]
    if page.png is None:
        # The PDF itself is still there: the download button beside this works as always.
        st.info(NO_PREVIEW)
        return
    # A screen reader says what the picture is; the words on it are in the PDF download.
    st.image(page.png, caption=f"Page 1 of {detail.page_count}", width="stretch",
             alt=f"Preview of page 1 of the {detail.type_label} report, service date "
                 f"{detail.service_date:%Y-%m-%d}")


def _received_in_error(report_id: int) -> None:
    with st.expander("I received this in error"):
        st.caption("It leaves your view at once and our privacy team is told. Please do not use "
                   "or share it, and delete any copy you made.")
        # Set by an admin on the Settings screen: shown literally.
        components.literal("Questions about information received in error? HIPAA hotline: "
                           f"{support_contact.contact(runtime.database()).hipaa_hotline}.",
                           tag="small")
        # One form: the note and the click arrive together. Without it, the click that takes
        # focus from the note first reruns the page for the note; once, in a full browser-test
        # run, the click was lost in that rerun and nothing was removed.
        with st.form("error_form", border=False):
            st.text_area("Note for the privacy team (optional)", key=_ERROR_NOTE_KEY,
                         max_chars=1000)
            st.form_submit_button("Remove it from my view", key="error_flag", on_click=_flag,
                                  args=(report_id,))


def _flag(report_id: int) -> None:
    if run_action(lambda principal: incidents.flag(
            runtime.database(), principal, report_id=report_id,
            note=st.session_state.get(_ERROR_NOTE_KEY, "")), message_key=_MESSAGE_KEY):
        close()
        st.session_state[FLAGGED_KEY] = ("Thank you. The report is removed from your view and "
                                         "the privacy team will follow up.")


def _redeliver(report_id: int) -> None:
    if run_action(lambda principal: access.redeliver(runtime.database(), principal, report_id),
                  success=f"Re-delivered: available again for {_RETENTION}.", message_key=_MESSAGE_KEY):
        st.session_state.pop(_SHOWN_KEY, None)  # show the new status
