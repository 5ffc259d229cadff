"""One module per screen; each defines render(principal) and nothing runs at import."""
