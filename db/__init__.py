"""Data layer: models, engine and transactions, migrations, blob store, demo seed."""
