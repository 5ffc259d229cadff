"""On an open report, for its clinic and staff: post a correction, withdraw it, and, once it is
withdrawn or replaced, what happened and who at a recipient had opened it before."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action
from services.policy import Action
from services.principals import Principal
from services.reports import access, corrections
from services.statuses import ReportStatus


def offer(principal: Principal, detail: access.ReportDetail, *, reopen: Callable[[int], None],
          message_key: str) -> None:
    """What the clinic and staff may do with this report, or what became of it."""
    if not (principal.is_staff or principal.provider_links):
        return  # a recipient: nothing here is theirs to see
    db = runtime.database()
    life = corrections.lifecycle(db, principal, detail.id)
    if not life.of_clinic:
        return
    if detail.status == ReportStatus.WITHDRAWN:
        _what_happened(principal, detail, life, reopen)
        _earlier_access(principal, detail.id)
        return
    if detail.status != ReportStatus.AVAILABLE:
        return
    if principal.can(Action.CORRECT_REPORTS):
        _correction(detail, life, reopen, message_key)
    if principal.can(Action.WITHDRAW_REPORTS):
        _withdrawal(detail, life, reopen, message_key)
    confirm.show_pending()


def _accounts(count: int) -> str:
    return f"{count} recipient account" + ("" if count == 1 else "s")


def _correction(detail: access.ReportDetail, life: corrections.Lifecycle,
                reopen: Callable[[int], None], message_key: str) -> None:
    report_id = detail.id
    # Keyed and tracked: a chosen file reruns the screen, and the panel must stay open.
    with st.expander("Post a correction", key=f"report_correct_{report_id}", on_change="rerun"):
        st.caption("The PDF you choose replaces this report for every recipient: they see it as "
                   "Corrected and new, and this one leaves their view (your clinic and staff "
                   "can still read it).")
        upload = st.file_uploader("Corrected PDF", type=["pdf"], key=f"correct_file_{report_id}")
        if upload is None:
            st.button("Post correction", key=f"correct_{report_id}", disabled=True)
            st.caption("Choose the corrected PDF first.")
            return
        data, file_name = upload.getvalue(), upload.name
        db, store = runtime.database(), runtime.blob_store()

        def act() -> None:
            done = run_action(
                lambda principal: corrections.correct(db, principal, report_id=report_id,
                                                      data=data, blob_store=store),
                success=lambda new: (f"Report {report_id} is replaced by report {new} for "
                                     f"{_accounts(life.recipients)}."),
                message_key=message_key)
            if done is not None:
                reopen(done.result)

        st.button("Post correction", key=f"correct_{report_id}", type="primary",
                  on_click=confirm.ask, args=(confirm.Question(
                      title="Post a correction",
                      lines=(f"Report {report_id} ({detail.type_label}, service date "
                             f"{detail.service_date:%Y-%m-%d}) is replaced by {file_name} for its "
                             f"{_accounts(life.recipients)}.",
                             "They see the new report marked Corrected and new. The old one "
                             "leaves their view; anyone asking for it is sent to the new one."),
                      confirm="Post the correction", act=act),))


def _withdrawal(detail: access.ReportDetail, life: corrections.Lifecycle,
                reopen: Callable[[int], None], message_key: str) -> None:
    report_id = detail.id
    with st.expander("Withdraw", key=f"report_withdraw_{report_id}", on_change="rerun"):
        st.caption("For a report posted in error. It leaves every recipient's view at once; "
                   "your clinic and staff can still read it.")
        reason = st.selectbox("Why is it withdrawn?", list(corrections.WITHDRAWAL_REASONS),
                              index=None, format_func=corrections.WITHDRAWAL_REASONS.get,
                              key=f"withdraw_reason_{report_id}", placeholder="Choose a reason")
        if reason is None:
            st.button("Withdraw report", key=f"withdraw_{report_id}", disabled=True)
            st.caption("Choose a reason first.")
            return
        db = runtime.database()

        def act() -> None:
            done = run_action(
                lambda principal: corrections.withdraw(db, principal, report_id=report_id,
                                                       reason=reason),
                success=f"Report {report_id} is withdrawn.", message_key=message_key)
            if done is not None:
                reopen(report_id)

        st.button("Withdraw report", key=f"withdraw_{report_id}", type="primary",
                  on_click=confirm.ask, args=(confirm.Question(
                      title="Withdraw this report",
                      lines=(f"Report {report_id} ({detail.type_label}, service date "
                             f"{detail.service_date:%Y-%m-%d}) leaves the view of its "
                             f"{_accounts(life.recipients)} at once.",
                             f"Reason: {corrections.WITHDRAWAL_REASONS[reason]}.",
                             "A recipient who asks for it is told the clinic withdrew it. It "
                             "cannot be made available again."),
                      confirm="Withdraw the report", act=act),))


def _what_happened(principal: Principal, detail: access.ReportDetail,
                   life: corrections.Lifecycle, reopen: Callable[[int], None]) -> None:
    when = components.local_time(life.withdrawn_at, principal)
    if life.replaced_by is not None:
        st.warning(f"Replaced by a correction: report {life.replaced_by}"
                   + (f" ({when})." if when else "."))
        st.button(f"Open report {life.replaced_by}", key=f"report_open_next_{detail.id}",
                  on_click=reopen, args=(life.replaced_by,))
    else:
        st.warning(f"Withdrawn by the clinic{' on ' + when if when else ''}: {life.reason}.")


def _earlier_access(principal: Principal, report_id: int) -> None:
    seen = corrections.earlier_access(runtime.database(), principal, report_id)
    st.subheader("Who opened it before")
    if not seen:
        st.caption("Nobody at a recipient account opened, previewed or downloaded it.")
        return
    # People's names and accounts are typed: a grid shows them as plain text.
    st.dataframe(pd.DataFrame([{
        "Person": f"{row.person} ({row.email})" if row.person else row.email,
        "Account": row.account,
        "What": row.what,
        "When": components.local_time(row.at, principal),
    } for row in seen]), hide_index=True, width="stretch", key=f"earlier_access_{report_id}")
