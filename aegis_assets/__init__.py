"""Dagster assets, asset checks, jobs and the `Definitions` of the code location."""
