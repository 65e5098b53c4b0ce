"""Dagster ConfigurableResources: thin adapters over `aegis_core` services."""
