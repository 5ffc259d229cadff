"""Session-state keys of the Users screen that its parts share.

The people list, the invitations and the invite form each leave a message for the next run;
users.py shows it at the top of the screen.
"""

import streamlit as st

MESSAGE_KEY = "users_message"
# Set after any change a click made: the people list then checks that its ticked rows still
# name the same people (a change can move others under the ticks).
CHANGED_KEY = "people_changed"


def changed() -> None:
    st.session_state[CHANGED_KEY] = True
