"""Settings (system admins): the portal's contact details, the terms of use and their versions,
and, read-only, the security configuration in effect and where each rule is set."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.common import components, confirm, runtime
from pages.common.actions import run_action, say, show_message
from services import portal_settings
from services.identity import terms
from services.mail import support_contact
from services.policy import Action
from services.principals import Principal

# Session state: the message of the last change, and a counter bumped after each saved change so
# the forms show what is stored now rather than what was typed before.
_MESSAGE_KEY = "settings_message"
_GENERATION_KEY = "settings_generation"
_SHOWN_VERSION_KEY = "settings_terms_shown"


def _generation() -> int:
    return st.session_state.get(_GENERATION_KEY, 0)


def _field_key(name: str) -> str:
    return f"settings_{name}_{_generation()}"


def _saved() -> None:
    st.session_state[_GENERATION_KEY] = _generation() + 1


def _save_contact() -> None:
    values = support_contact.SupportContact(**{
        key: st.session_state.get(_field_key(key), "") for key in support_contact.KEYS})
    done = run_action(lambda principal: support_contact.update(runtime.database(), principal,
                                                               values=values),
                      success=lambda changed: ("Saved: " + ", ".join(changed) + "."
                                               if changed else "Nothing changed."),
                      message_key=_MESSAGE_KEY)
    if done is not None:
        _saved()


def _contact() -> None:
    st.header("Contact details")
    st.caption("Shown on the sign-in screen, in 'Having trouble signing in?', next to 'I received "
               "this in error' on every report, and at the foot of every email.")
    now = support_contact.contact(runtime.database())
    with st.form("settings_contact"):
        left, right = st.columns(2)
        left.text_input("Support phone", value=now.support_phone, key=_field_key("support_phone"),
                        max_chars=40)
        right.text_input("Support hours", value=now.support_hours, key=_field_key("support_hours"),
                         max_chars=support_contact.HOURS_LENGTH)
        left.text_input("Support email", value=now.support_email, key=_field_key("support_email"),
                        max_chars=254)
        right.text_input("HIPAA hotline", value=now.hipaa_hotline,
                         key=_field_key("hipaa_hotline"), max_chars=40)
        st.form_submit_button("Save contact details", on_click=_save_contact)


def _publish(version: str, text: str) -> None:
    done = run_action(lambda principal: terms.publish(runtime.database(), principal,
                                                      version=version, text=text),
                      success=lambda published: f"Published version {published.version}.",
                      message_key=_MESSAGE_KEY)
    if done is not None:
        _saved()


def _ask_publish() -> None:
    version = st.session_state.get(_field_key("terms_version"), "").strip()
    text = st.session_state.get(_field_key("terms_text"), "")
    if not version:
        say("error", "Give the new text a version label first, like 2027-01.",
            message_key=_MESSAGE_KEY)
        return
    confirm.ask(confirm.Question(
        title="Publish new terms of use?", confirm="Publish",
        lines=(f"Version {version} becomes the terms of use at once.",
               "Everyone, you included, must accept it before using the portal again: people "
               "signed in now at their next click, everyone else at their next sign-in.",
               "Earlier versions stay in the history with who accepted them."),
        act=lambda: _publish(version, text)))


def _terms(principal: Principal) -> None:
    st.header("Terms of use")
    versions = terms.history(runtime.database(), principal)
    current = versions[0]
    components.literal(f"Current version: {current.version}, published "
                       f"{components.local_time(current.published_at, principal)}"
                       + (f" by {current.published_by}" if current.published_by else "") + ".")
    with st.expander("Current text"):
        st.text(current.text)
    st.subheader("Version history")
    st.dataframe(pd.DataFrame([{
        "Version": v.version,
        "Published": components.local_time(v.published_at, principal),
        "By": v.published_by,
        "Accepted by": v.accepted,
        "": "current" if index == 0 else ""} for index, v in enumerate(versions)]),
        hide_index=True, width="stretch")
    if len(versions) > 1:
        labels = [v.version for v in versions[1:]]
        shown = st.selectbox("Read an earlier version", labels, index=None,
                             key=_SHOWN_VERSION_KEY, placeholder="Choose a version")
        if shown is not None:
            st.text(next(v.text for v in versions if v.version == shown))
    st.subheader("Publish a new text")
    with st.form("settings_terms"):
        st.text_input("Version label", key=_field_key("terms_version"),
                      max_chars=terms.VERSION_LENGTH, placeholder="For example 2027-01")
        st.text_area("Text", value=current.text, key=_field_key("terms_text"), height=300,
                     max_chars=terms.TEXT_LENGTH)
        st.form_submit_button("Publish…", on_click=_ask_publish)


def _security(principal: Principal) -> None:
    st.header("Security configuration")
    st.caption("In effect now, read-only. Environment variables are set by the operator where "
               "the portal runs (README, Configuration) and apply at the next use; the other "
               "rules change only with the code.")
    lines = portal_settings.security_configuration(runtime.database(), principal)
    st.dataframe(pd.DataFrame([{"Rule": line.rule, "In effect": line.value,
                                "Where it is set": line.where} for line in lines]),
                 hide_index=True, width="stretch")
    st.caption("The password policy asks for: " + "; ".join(portal_settings.password_rules()) + ".")


def render(principal: Principal) -> None:
    components.guard(principal, Action.MANAGE_SETTINGS)
    st.title("Settings")
    confirm.show_pending()
    show_message(_MESSAGE_KEY)
    _contact()
    _terms(principal)
    _security(principal)
