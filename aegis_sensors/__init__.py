"""Dagster sensors: database rows (paid checkouts, operator requests) become runs."""
