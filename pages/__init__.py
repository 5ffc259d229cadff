"""Screens. Modules here define functions only: app.py registers them with st.navigation."""
