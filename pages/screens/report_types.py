"""Report types: the list clinics post from. System admins add a type, rename it, change which
kinds of account receive it by default, and retire it (or take it back into use)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from services.policy import Action
from services.principals import Principal
from services.reports import report_types
from services.reports.report_types import KIND_LABELS, ListedType, ReportTypeInfo
from services.wording import plural

# Session state: the message a click leaves for the next run; the type chosen (by code).
_MESSAGE_KEY = "rt_message"
CHOSEN_KEY = "rt_chosen"
# The add form's fields (emptied once a type is added).
_NEW = {"name": "rt_new_name", "code": "rt_new_code", "injury": "rt_new_injury",
        "kinds": "rt_new_kinds"}
_INJURY = {"Injury": True, "Non-injury": False}
APPLIES = ("A change applies to reports posted after it: reports already routed stay where they "
           "are, in the view of the accounts they went to.")


def rename_key(code: str) -> str:
    """Session state: the new name typed for one type."""
    return f"rt_rename_{code}"


def kinds_key(code: str) -> str:
    """Session state: the kinds of account chosen to receive one type by default."""
    return f"rt_kinds_{code}"


def _kinds(kinds: frozenset[str]) -> str:
    return ", ".join(KIND_LABELS[kind] for kind in KIND_LABELS if kind in kinds) or "No kind (only accounts given it)"


def _status(kind: ReportTypeInfo, principal: Principal) -> str:
    return f"Retired {components.local_day(kind.retired_at, principal)}" if kind.retired else "In use"


# --- adding ------------------------------------------------------------------------------------


def _add() -> None:
    state = st.session_state
    injury = state.get(_NEW["injury"])
    if injury is None:
        state[_MESSAGE_KEY] = ("error", "Choose whether it is an injury or a non-injury report.")
        return
    done = run_action(lambda principal: report_types.add_type(
        runtime.database(), principal, name=state.get(_NEW["name"]) or "",
        code=state.get(_NEW["code"]) or "", injury=_INJURY[injury],
        kinds=frozenset(state.get(_NEW["kinds"]) or ())),
        success=lambda added: f"Report type added: {added.name} ({added.code}). Clinics can "
                              "post it now; it is chosen below.",
        message_key=_MESSAGE_KEY)
    if done is not None:
        state[CHOSEN_KEY] = done.result.code
        state[_NEW["name"]] = state[_NEW["code"]] = ""
        state[_NEW["injury"]] = None
        state[_NEW["kinds"]] = []


def _add_form() -> None:
    with st.expander("Add a report type"), st.form("rt_add"):
        left, right = st.columns([3, 1])
        left.text_input("Name", key=_NEW["name"], max_chars=report_types.NAME_LIMIT,
                        placeholder="e.g. Texas DWC-73 work status report")
        right.text_input("Short code", key=_NEW["code"], max_chars=32, placeholder="e.g. tx_dwc73",
                         help="2 to 32 lower-case letters, digits or underscores. Manifests may "
                              "name the type by it; it never changes.")
        left, right = st.columns(2)
        # Nothing is chosen until the admin picks: neither answer is a safe guess.
        left.radio("Injury or non-injury", list(_INJURY), index=None, key=_NEW["injury"],
                   horizontal=True)
        right.multiselect("Received by default by", list(KIND_LABELS), format_func=KIND_LABELS.get,
                          key=_NEW["kinds"], placeholder="Choose kinds of account",
                          help="Accounts of these kinds receive it unless an account "
                               "representative removes it for one account; others can be given it.")
        st.form_submit_button("Add report type", type="primary", on_click=_add)


# --- changing one type -------------------------------------------------------------------------


def _rename(code: str) -> None:
    name = st.session_state.get(rename_key(code)) or ""
    run_action(lambda principal: report_types.rename_type(runtime.database(), principal,
                                                          code=code, name=name),
               success=lambda renamed: f"Renamed: it is now called {renamed.name}.",
               message_key=_MESSAGE_KEY)


def _set_kinds(code: str, kinds: frozenset[str]) -> None:
    run_action(lambda principal: report_types.set_default_kinds(runtime.database(), principal,
                                                                code=code, kinds=kinds),
               success=lambda changed: f"{changed.name} is now received by default by: "
                                       f"{_kinds(changed.kinds)}.",
               message_key=_MESSAGE_KEY)


def _retire(code: str) -> None:
    run_action(lambda principal: report_types.retire_type(runtime.database(), principal, code=code),
               success=lambda retired: f"{retired.name} is retired: uploads of it are refused "
                                       "from now on; its reports stay where they are.",
               message_key=_MESSAGE_KEY)


def _restore(code: str) -> None:
    run_action(lambda principal: report_types.restore_type(runtime.database(), principal, code=code),
               success=lambda restored: f"{restored.name} is in use again: clinics can post it.",
               message_key=_MESSAGE_KEY)


def _retire_question(listed: ListedType) -> confirm.Question:
    kind = listed.type
    return confirm.Question(
        title="Retire this report type?", confirm="Retire", act=lambda: _retire(kind.code),
        lines=(f"Retire {kind.name} ({kind.code})?",
               "Clinics can no longer post reports of this type: uploads naming it are refused "
               "with the reason.",
               f"Reports of this type posted so far: {listed.reports:,}. They stay where they "
               "were routed: the accounts that received them still find and open them. Nothing "
               "is deleted, and the type can be taken back into use later."))


def _kinds_question(kind: ReportTypeInfo, chosen: frozenset[str]) -> confirm.Question:
    gained = [KIND_LABELS[k] for k in KIND_LABELS if k in chosen - kind.kinds]
    lost = [KIND_LABELS[k] for k in KIND_LABELS if k in kind.kinds - chosen]
    lines = [f"Change who receives {kind.name} by default?"]
    if gained:
        lines.append("From now on received by default by: " + ", ".join(gained) + ".")
    if lost:
        lines.append("No longer received by default by: " + ", ".join(lost)
                     + " (accounts given it on their own keep it).")
    lines.append(APPLIES)
    return confirm.Question(title="Change the standard recipients?", confirm="Save",
                            act=lambda: _set_kinds(kind.code, chosen), lines=tuple(lines))


def _one_type(listed: ListedType, principal: Principal) -> None:
    kind = listed.type
    st.subheader("Change a report type")
    components.literal(f"{kind.name} ({kind.code}): {'injury' if kind.injury else 'non-injury'}, "
                       f"{_status(kind, principal).lower()}, "
                       f"{plural(listed.reports, 'report', 'reports')} posted.")
    # Keyed by the type: choosing another never shows what was typed for this one.
    with st.form(f"rt_rename_form_{kind.code}"):
        st.text_input("New name", value=kind.name, max_chars=report_types.NAME_LIMIT,
                      key=rename_key(kind.code),
                      help="Reports already posted show the new name too.")
        st.form_submit_button("Rename", on_click=_rename, args=(kind.code,))
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = frozenset(left.multiselect(
        "Who receives it by default", list(KIND_LABELS), default=sorted(kind.kinds, key=list(KIND_LABELS).index),
        format_func=KIND_LABELS.get, key=kinds_key(kind.code), placeholder="No kind of account"))
    unchanged = chosen == kind.kinds
    right.button("Save recipients", key=f"rt_kinds_save_{kind.code}", disabled=unchanged,
                 on_click=confirm.ask, args=(_kinds_question(kind, chosen),))
    if unchanged:
        st.caption("Choose other kinds of account to change who receives it by default. "
                   + APPLIES)
    if kind.retired:
        st.button("Take back into use", key=f"rt_restore_{kind.code}", on_click=_restore,
                  args=(kind.code,))
        st.caption("Retired: uploads of it are refused. Taken back into use, clinics can post "
                   "it again.")
    else:
        st.button("Retire", key=f"rt_retire_{kind.code}", on_click=confirm.ask,
                  args=(_retire_question(listed),))


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_REPORT_TYPES)
    st.title("Report types")
    st.caption("The types clinics post and the kinds of account each goes to by default; "
               "account representatives add or remove types for one account on Client accounts. "
               "A type added here can be posted at once, everywhere. A retired type takes no new "
               "uploads and its reports stay; nothing is ever deleted. " + APPLIES)
    # Before the lists: a confirmed change shows in everything drawn below it.
    confirm.show_pending()
    show_message(_MESSAGE_KEY)
    _add_form()
    listed = report_types.listing(runtime.database(), principal)
    st.dataframe(pd.DataFrame([{
        "Name": item.type.name, "Code": item.type.code,
        "Injury": "Injury" if item.type.injury else "Non-injury",
        "Received by default by": _kinds(item.type.kinds),
        "Status": _status(item.type, principal), "Reports": item.reports,
    } for item in listed]), hide_index=True, width="stretch")
    by_code = {item.type.code: item for item in listed}
    if st.session_state.get(CHOSEN_KEY) not in by_code:
        st.session_state.pop(CHOSEN_KEY, None)
    chosen = st.selectbox("Report type to change", list(by_code), index=None, key=CHOSEN_KEY,
                          format_func=lambda code: by_code[code].type.name
                          + (" (retired)" if by_code[code].type.retired else ""),
                          placeholder="Choose a report type")
    if chosen is not None:
        _one_type(by_code[chosen], principal)
