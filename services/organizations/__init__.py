"""The places people work for: client accounts, provider groups and their registration, NPIs."""
