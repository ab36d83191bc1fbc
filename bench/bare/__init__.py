"""Bench-only app: a bare DRF endpoint that inserts one row, the baseline `bench/intake.py` compares
event intake against. Installed only by config.settings_bench, never by the production settings."""
