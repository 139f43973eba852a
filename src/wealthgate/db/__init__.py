"""Database access: URLs, the embedded PostgreSQL, migrations, pools, units of work."""
