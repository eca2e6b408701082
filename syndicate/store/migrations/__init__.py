"""Schema migrations (Alembic). `syndicate db upgrade` applies them; see store/migrate.py."""
