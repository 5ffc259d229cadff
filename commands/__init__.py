"""Command-line programs and scheduled jobs: `python -m commands.<name>` (the make targets).

Each one opens the database (db.migrate.open_database), calls services and prints one summary.
Nothing in services/ or db/ imports from here.
"""
