"""All behaviour of ResultsDesk. Nothing here imports Streamlit."""
