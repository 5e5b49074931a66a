"""The state database (SQLite), the one source of truth of what was done."""
