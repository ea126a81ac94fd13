"""Storage: one small interface (`base.py`), one embedded backend (SQLite)."""
