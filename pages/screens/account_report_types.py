"""The report types one client account receives: a section of the account's page on Client
accounts. Each active type, whether it is standard for the account's kind, and a tick for what
the account receives; Save asks first, naming what is added and removed."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, say, show_message
from services.principals import Principal
from services.reports import report_types
from services.reports.report_types import KIND_LABELS, AccountTypes, ReportTypeInfo
from services.wording import plural

APPLIES = ("A change applies to reports posted after it is saved: reports already routed stay "
           "where they are (this account keeps the ones it received, and gets none posted before).")


def message_key(account_id: int) -> str:
    """Session state: the message a save leaves for the next run, per account."""
    return f"art_message_{account_id}"


def editor_key(account_id: int, current: AccountTypes, listed: list[ReportTypeInfo]) -> str:
    """Session state: the ticks of one account's table. The key also names the rows and the
    saved set, so a change of either (a save, a type added or retired elsewhere) starts a fresh
    table instead of applying old ticks to rows that now mean other types."""
    shown = ",".join(kind.code for kind in listed) + "|" + ",".join(sorted(current.receives))
    return f"art_types_{account_id}_{hashlib.sha256(shown.encode()).hexdigest()[:12]}"


def _names(codes: frozenset[str], listed: list[ReportTypeInfo]) -> str:
    return ", ".join(kind.name for kind in listed if kind.code in codes)


def _save(account_id: int, receives: frozenset[str]) -> None:
    run_action(lambda principal: report_types.set_account_types(
        runtime.database(), principal, account_id=account_id, receives=receives),
        success="Report types saved: reports posted from now on follow them.",
        message_key=message_key(account_id))


def _question(current: AccountTypes, wanted: frozenset[str],
              listed: list[ReportTypeInfo]) -> confirm.Question:
    added, removed = wanted - current.receives, current.receives - wanted
    lines = [f"Change the report types {current.account_name} receives?"]
    if added:
        lines.append(f"It will receive: {_names(added, listed)}.")
    if removed:
        lines.append(f"It will no longer receive: {_names(removed, listed)}.")
    lines.append(APPLIES)
    return confirm.Question(title="Save the report types?", confirm="Save report types",
                            act=lambda: _save(current.account_id, wanted), lines=tuple(lines))


def _ticked(key: str, codes: list[str], receives: frozenset[str]) -> frozenset[str]:
    """The set the table's ticks say now, read from the editor's own state at the click (the
    screen drawn before the click may not have seen the last tick yet)."""
    wanted = set(receives)
    edited = (st.session_state.get(key) or {}).get("edited_rows", {})
    for row, changes in edited.items():
        if "Receives" in changes:
            code = codes[int(row)]
            (wanted.add if changes["Receives"] else wanted.discard)(code)
    return frozenset(wanted)


def _ask(current: AccountTypes, listed: list[ReportTypeInfo], key: str) -> None:
    """Save pressed: ask about exactly what the ticks say at this moment."""
    wanted = _ticked(key, [item.code for item in listed], current.receives)
    if wanted == current.receives:
        say("info", "Nothing to save: the ticks show what the account receives now.",
            message_key=message_key(current.account_id))
        return
    confirm.ask(_question(current, wanted, listed))


def render(principal: Principal, account_id: int) -> None:
    """The "Report types this account receives" section (the caller checked the screen's action;
    the services check it again)."""
    st.subheader("Report types this account receives")
    db = runtime.database()
    current = report_types.account_set(db, principal, account_id=account_id)
    listed = report_types.active_types(db)
    kind = KIND_LABELS[current.kind]
    st.caption(f"{kind} receive the standard set below by default. Tick a non-standard type to "
               "add it for this account; untick a standard one to remove it. " + APPLIES)
    show_message(message_key(account_id))
    summary = [f"Receives {plural(len(current.receives), 'report type', 'report types')}"]
    if current.added:
        summary.append(f"added to the standard set: {_names(current.added, listed)}")
    if current.removed:
        summary.append(f"removed from the standard set: {_names(current.removed, listed)}")
    if len(summary) == 1:
        summary.append("the standard set for its kind")
    components.literal(f"{summary[0]}: " + "; ".join(summary[1:]) + ".")
    codes = [item.code for item in listed]
    key = editor_key(account_id, current, listed)
    st.data_editor(pd.DataFrame({
        # The tick first, in a narrow column: where a person looks for it, at the same place
        # whatever the window's width.
        "Receives": [item.code in current.receives for item in listed],
        "Report type": [item.name for item in listed],
        "Code": codes,
        "Injury": ["Injury" if item.injury else "Non-injury" for item in listed],
        f"Standard for {kind.lower()}": ["Standard" if item.code in current.standard else
                                         "Non-standard" for item in listed],
    }), hide_index=True, width="stretch", num_rows="fixed",
        # Every type in sight: a tick hidden below an inner scroll is easy to miss.
        height=(len(listed) + 1) * 35 + 3,
        disabled=["Report type", "Code", "Injury", f"Standard for {kind.lower()}"],
        column_config={"Receives": st.column_config.CheckboxColumn("Receives", width="small")},
        key=key)
    # A tick reaches the portal a moment after it shows, so Save reads the ticks again when
    # pressed: the question names exactly what will be saved.
    unchanged = _ticked(key, codes, current.receives) == current.receives
    st.button("Save report types", key=f"art_save_{account_id}", type="primary",
              disabled=unchanged, on_click=_ask, args=(current, listed, key))
    if unchanged:
        st.caption("Tick or untick a type to change what this account receives.")
    else:
        st.caption("Not saved yet: the ticks are dropped if you choose another account first.")
