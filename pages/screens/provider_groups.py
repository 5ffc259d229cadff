"""Provider groups: a group's providers (locations) and its people, as the provider portal's
"Manage Provider Groups" tab shows them. Staff pick a group; group and provider admins land on
their own. What each role may do here is services/organizations/provider_groups.py."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, show_message
from services.organizations import provider_groups
from services.organizations.provider_groups import (
    ADDABLE_ROLES,
    CONTACT_FIELDS,
    GroupPerson,
    GroupView,
    ProviderDetails,
    ProviderRow,
)
from services.policy import ROLE_LABELS, Action, Role, gives_power
from services.principals import Principal
from services.wording import plural

# Session state: the message a click leaves for the next run, and the group shown.
_MESSAGE_KEY = "pg_message"
_GROUP_KEY = "pg_group"
# The details form's fields, in order, with their labels.
_FIELDS = (("name", "Provider name"), ("provider_type", "Provider type"), ("address", "Address"),
           ("city", "City"), ("state", "State (two letters)"), ("postal_code", "Postal code"),
           ("phone", "Phone"), ("fax", "Fax"))


def _field_key(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def _typed(prefix: str) -> ProviderDetails:
    return ProviderDetails(**{name: st.session_state.get(_field_key(prefix, name)) or ""
                              for name, _ in _FIELDS})


def _clear(prefix: str, *names: str) -> None:
    for name in names:
        st.session_state[_field_key(prefix, name)] = ""


def _details_inputs(prefix: str, *, current: ProviderDetails | None = None,
                    locked: frozenset[str] = frozenset()) -> None:
    """The provider details fields, keyed by `prefix` (which names the provider or the form)."""
    for row in ((0, 1), (2,), (3, 4, 5), (6, 7)):
        columns = st.columns(len(row))
        for column, index in zip(columns, row):
            name, label = _FIELDS[index]
            column.text_input(label, key=_field_key(prefix, name),
                              value=getattr(current, name) if current else "",
                              disabled=name in locked,
                              help="Only the group's administrators change this." if name in locked
                              else None)


def _picker(label: str, labels: dict[int, str], *, chosen_key: str,
            placeholder: str | None = None) -> int | None:
    """A selectbox of ids whose choice lives under `chosen_key` (None: nothing chosen yet, for a
    picker with a placeholder). It is a new widget whenever a label changes (a deactivation, a
    provider added): a kept one went on showing the chosen entry's old label in the browser."""
    state = st.session_state
    version = hashlib.sha256(repr(sorted(labels.items())).encode()).hexdigest()[:12]
    key = f"{chosen_key}_{version}"
    if state.get(chosen_key) not in labels:
        state[chosen_key] = None if placeholder else next(iter(labels))
    if key not in state or (state[key] not in labels and state[key] is not None):
        state[key] = state[chosen_key]
    state[chosen_key] = st.selectbox(label, list(labels), format_func=labels.get, key=key,
                                     index=None if placeholder else 0,
                                     placeholder=placeholder or "")
    return state[chosen_key]


def _choose(chosen_key: str, value: int | None) -> None:
    """From a click: make `value` the picker's choice (its kept widgets forget theirs)."""
    for key in [k for k in st.session_state if str(k).startswith(f"{chosen_key}_")]:
        del st.session_state[key]
    st.session_state[chosen_key] = value


# --- clicks ------------------------------------------------------------------------------------


def _register(group_id: int) -> None:
    prefix = f"pg_new_{group_id}"
    number = (st.session_state.get(_field_key(prefix, "npi")) or "").strip()
    details = _typed(prefix)
    if run_action(lambda principal: provider_groups.register_provider(
            runtime.database(), principal, group_id=group_id, npi_number=number, details=details),
            success=f"Provider with NPI {number} registered.", message_key=_MESSAGE_KEY):
        _clear(prefix, "npi", *(name for name, _ in _FIELDS))


def _create_group() -> None:
    prefix = "pg_create"
    number = (st.session_state.get(_field_key(prefix, "npi")) or "").strip()
    name = st.session_state.get(_field_key(prefix, "group")) or ""
    details = _typed(prefix)
    done = run_action(lambda principal: provider_groups.create_group(
        runtime.database(), principal, group_name=name, npi_number=number, details=details),
        success=(f"Provider group with NPI {number} created. Invite its first group admin on the "
                 "Users screen (role: Provider group admin)."), message_key=_MESSAGE_KEY)
    if done:
        _clear(prefix, "npi", "group", *(n for n, _ in _FIELDS))
        _choose(_GROUP_KEY, done.result)  # show the new group


def _save(provider_id: int) -> None:
    details = _typed(f"pg_edit_{provider_id}")
    run_action(lambda principal: provider_groups.edit_provider(
        runtime.database(), principal, provider_id=provider_id, details=details),
        success=lambda changed: "Provider details saved." if changed else "Nothing was changed.",
        message_key=_MESSAGE_KEY)


def _set_active(provider_id: int, active: bool) -> None:
    call = provider_groups.reactivate_provider if active else provider_groups.deactivate_provider
    run_action(lambda principal: call(runtime.database(), principal, provider_id=provider_id),
               success="Provider reactivated: it takes uploads again." if active else
               "Provider deactivated: it takes no more uploads.", message_key=_MESSAGE_KEY)


def _move(provider_id: int, to_group_id: int) -> None:
    reason = st.session_state.get(f"pg_move_reason_{provider_id}") or ""
    if run_action(lambda principal: provider_groups.move_provider(
            runtime.database(), principal, provider_id=provider_id, to_group_id=to_group_id,
            reason=reason),
            success=lambda moved: f"Provider moved, with {plural(moved, 'role', 'roles')} held there.",
            message_key=_MESSAGE_KEY):
        _choose(_GROUP_KEY, to_group_id)  # follow it to its new group
        st.session_state.pop(f"pg_move_to_{provider_id}", None)
        st.session_state[f"pg_move_reason_{provider_id}"] = ""


def _add(group_id: int, user_id: int, provider_id: int, role: Role) -> None:
    if run_action(lambda principal: provider_groups.add_to_provider(
            runtime.database(), principal, user_id=user_id, provider_id=provider_id, role=role),
            success=f"Added as {ROLE_LABELS[role]}.", message_key=_MESSAGE_KEY):
        # The next pick starts again: no provider, the standard role.
        st.session_state.pop(_add_provider_key(group_id, user_id), None)
        st.session_state[_add_role_key(group_id, user_id)] = ADDABLE_ROLES[0]


def _add_provider_key(group_id: int, user_id: int) -> str:
    return f"pg_add_provider_{group_id}_{user_id}"


def _add_role_key(group_id: int, user_id: int) -> str:
    return f"pg_add_role_{group_id}_{user_id}"


# --- the screen --------------------------------------------------------------------------------


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_PROVIDER_GROUPS)
    st.title("Provider groups")
    confirm.show_pending()
    show_message(_MESSAGE_KEY)
    db = runtime.database()
    everywhere = provider_groups.manages_every_group(principal)
    if everywhere:
        _create_group_form()
    found = provider_groups.groups(db, principal)
    if not found:
        st.info("There are no provider groups yet.")
        return
    names = {g.id: f"{g.name} (NPI {g.npi}, {plural(g.providers, 'provider', 'providers')})"
             for g in found}
    if len(found) > 1:
        chosen = _picker("Provider group", names, chosen_key=_GROUP_KEY)
    else:
        chosen = found[0].id
        components.literal(names[chosen], tag="h3")
    shown = provider_groups.view(db, principal, group_id=chosen)
    people = provider_groups.people(db, principal, group_id=chosen)
    # Stateful and keyed by the group: a click inside a tab, or a message appearing above it,
    # leaves the person on the tab they were in (untracked tabs went back to the first).
    providers_tab, users_tab = st.tabs(["Providers", "Users"], key=f"pg_tabs_{chosen}",
                                       on_change="rerun")
    with providers_tab:
        st.caption(plural(len(shown.providers), "provider", "providers")
                   + ("" if shown.manages_group else " that you administer"))
        _providers(shown, found)
    with users_tab:
        st.caption(plural(len(people), "person", "people") + " with a role in this group"
                   + ("" if shown.manages_group else " at your providers"))
        _users(shown, people)


def _create_group_form() -> None:
    with st.expander("Create a provider group"):
        st.caption("For a facility that calls in: the group and its first provider, under the "
                   "facility's NPI. Unused registration codes for that NPI stop working.")
        with st.form("pg_create_form"):
            left, right = st.columns(2)
            left.text_input("Group name", key=_field_key("pg_create", "group"))
            right.text_input("Facility NPI", max_chars=10, key=_field_key("pg_create", "npi"))
            st.caption("First provider")
            _details_inputs("pg_create")
            st.form_submit_button("Create the group", type="primary", on_click=_create_group)


def _address(row: ProviderRow) -> str:
    d = row.details
    place = " ".join(part for part in (d.state, d.postal_code) if part)
    return ", ".join(part for part in (d.address, d.city, place) if part)


def _providers(shown: GroupView, groups: list) -> None:
    group_id = shown.group.id
    if shown.providers:
        # Status and counts first: the columns a narrow screen still shows without scrolling.
        st.dataframe(pd.DataFrame([{
            "Provider": p.details.name, "NPI": p.npi, "Status": p.status, "Users": p.users,
            "Reports": p.reports, "Provider type": p.details.provider_type,
            "Address": _address(p), "Phone": p.details.phone, "Fax": p.details.fax}
            for p in shown.providers]), hide_index=True, width="stretch")
    else:
        st.caption("This group has no providers yet.")
    if shown.manages_group:
        with st.expander("Register new provider"):
            with st.form(f"pg_register_form_{group_id}"):
                st.text_input("NPI", max_chars=10, key=_field_key(f"pg_new_{group_id}", "npi"),
                              help="10 digits, the last a check digit.")
                _details_inputs(f"pg_new_{group_id}")
                st.form_submit_button("Register provider", type="primary", on_click=_register,
                                      args=(group_id,))
    if not shown.providers:
        return
    st.subheader("Manage a provider")
    labels = {p.id: f"{p.details.name} (NPI {p.npi})" + ("" if p.active else " - deactivated")
              for p in shown.providers}
    picked = _picker("Provider", labels, chosen_key=f"pg_provider_{group_id}",
                     placeholder="Choose a provider")
    if picked is None:
        return
    provider = next(p for p in shown.providers if p.id == picked)
    _edit_form(shown, provider)
    if shown.manages_group:
        _activation(provider, labels[provider.id])
    if shown.everywhere:
        _move_form(shown, provider, groups)


def _edit_form(shown: GroupView, provider: ProviderRow) -> None:
    locked = frozenset() if shown.manages_group else frozenset(
        name for name, _ in _FIELDS if name not in CONTACT_FIELDS)
    # Keyed by the provider: choosing another never shows what was typed for this one.
    with st.form(f"pg_edit_form_{provider.id}"):
        st.text_input("NPI", value=provider.npi, disabled=True, key=f"pg_edit_npi_{provider.id}",
                      help="An NPI does not change: deactivate this provider and register the "
                           "right number instead.")
        _details_inputs(f"pg_edit_{provider.id}", current=provider.details, locked=locked)
        st.form_submit_button("Save details", on_click=_save, args=(provider.id,))


def _activation(provider: ProviderRow, label: str) -> None:
    if provider.active:
        question = confirm.Question(
            title="Deactivate this provider?", confirm="Deactivate",
            act=lambda: _set_active(provider.id, False),
            lines=(f"{label} will take no more uploads.",
                   "Its reports stay with the accounts they were routed to, and the people "
                   "working there keep their roles. You can reactivate it later."))
        st.button("Deactivate provider", key=f"pg_deactivate_{provider.id}", on_click=confirm.ask,
                  args=(question,))
    else:
        st.caption("Deactivated: it takes no uploads.")
        st.button("Reactivate provider", key=f"pg_reactivate_{provider.id}", on_click=_set_active,
                  args=(provider.id, True))


def _move_form(shown: GroupView, provider: ProviderRow, groups: list) -> None:
    others = {g.id: f"{g.name} (NPI {g.npi})" for g in groups if g.id != shown.group.id}
    st.subheader("Move provider")
    if not others:
        st.caption("There is no other provider group to move it to.")
        return
    target = st.selectbox("Move to group", list(others), format_func=others.get, index=None,
                          placeholder="Choose a group", key=f"pg_move_to_{provider.id}")
    st.text_area("Reason for the move (kept in the audit trail)",
                 key=f"pg_move_reason_{provider.id}", max_chars=500)
    if target is None:
        st.button("Move provider", key=f"pg_move_{provider.id}", disabled=True,
                  help="Choose the group to move it to.")
        return
    here = f"{provider.details.name} (NPI {provider.npi})"
    question = confirm.Question(
        title="Move this provider?", confirm="Move provider",
        act=lambda: _move(provider.id, target),
        lines=(f"{here} moves from {shown.group.name} to {others[target]}, with its reports and "
               f"the roles of the {plural(provider.users, 'person', 'people')} working there.",
               f"The group admins of {shown.group.name} lose access to it."))
    st.button("Move provider", key=f"pg_move_{provider.id}", on_click=confirm.ask,
              args=(question,))


def _role_words(person: GroupPerson) -> str:
    return "; ".join(
        f"{ROLE_LABELS[r.role]}: " + (r.provider_name if r.provider_id is not None
                                      else "every provider of the group")
        for r in person.roles)


def _users(shown: GroupView, people: list[GroupPerson]) -> None:
    group_id = shown.group.id
    if not people:
        st.caption("Nobody has a role in this group yet: invite people on the Users screen.")
        return
    st.dataframe(pd.DataFrame([{"Name": p.name, "Email": p.email, "Status": p.status,
                                "Roles": _role_words(p)} for p in people]),
                 hide_index=True, width="stretch")
    st.subheader("Available users from your group")
    active = [p for p in shown.providers if p.active]
    # Only people who lack a role at one of the active providers here: nobody else can apply.
    addable = {p.user_id: p for p in people if p.addable
               and any(a.id not in {r.provider_id for r in p.roles} for a in active)}
    if not addable:
        st.caption("Nobody here can be given a role at another of these providers by you. "
                   "People from elsewhere join through an invitation on the Users screen.")
        return
    labels = {uid: f"{p.name} ({p.email})" for uid, p in addable.items()}
    # A person given a role at every provider here leaves the list (and the choice with them).
    user_id = _picker("Person", labels, chosen_key=f"pg_add_person_{group_id}",
                      placeholder="Choose a person")
    if user_id is None:
        return
    person = addable[user_id]
    held = {r.provider_id for r in person.roles}
    offered = {p.id: f"{p.details.name} (NPI {p.npi})" for p in active if p.id not in held}
    left, middle, right = st.columns([3, 2, 1])
    # Keyed by the person: choosing someone else never carries a pick over to them.
    provider_id = left.selectbox("Add to provider", list(offered), format_func=offered.get,
                                 index=None, placeholder="Choose a provider",
                                 key=_add_provider_key(group_id, user_id))
    # The standard role, Provider staff (the first), is preselected: the least a role here gives.
    role = middle.selectbox("Role", list(ADDABLE_ROLES), format_func=ROLE_LABELS.get,
                            key=_add_role_key(group_id, user_id))
    add_key = f"pg_add_{group_id}_{user_id}"
    if provider_id is None:
        right.button("Add", key=add_key, disabled=True, help="Choose a provider first.")
        return
    act: Callable[[], None] = lambda: _add(group_id, user_id, provider_id, Role(role))  # noqa: E731
    if gives_power(Role(role)):
        question = confirm.Question(
            title="Give this role?", confirm="Give the role", act=act,
            lines=(f"{labels[user_id]} will become {ROLE_LABELS[Role(role)]} of "
                   f"{offered[provider_id]}.",
                   "They will be able to manage that provider's users and post its reports."))
        right.button("Add", key=add_key, on_click=confirm.ask, args=(question,))
    else:
        right.button("Add", key=add_key, on_click=act)
