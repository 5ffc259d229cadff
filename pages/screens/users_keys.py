"""Session-state keys of the Users screen that its parts share.

The people list, the invitations and the invite form each leave a message for the next run;
users.py shows it at the top of the screen.
"""

MESSAGE_KEY = "users_message"
