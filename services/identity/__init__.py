"""Who someone is and what they hold: sign-in, sessions, passwords, invitations, roles, users, terms."""
