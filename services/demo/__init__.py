"""The demo data set and its synthetic report PDFs (loaded only by demo deployments)."""
