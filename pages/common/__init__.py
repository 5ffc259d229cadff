"""What the screens share: the running app's database and session, navigation, small widgets."""
