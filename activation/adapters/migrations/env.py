"""Alembic environment: runs on the engine the application hands over (or ACTIVATION_DATABASE_URL)."""

from alembic import context

from activation.adapters.db import make_engine
from activation.adapters.tables import metadata

config = context.config
engine = config.attributes.get("engine") or make_engine()

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
