"""Prefect flows: short, idempotent, each moving cases one step or firing due alarms in batches.

Nothing is imported here: `flows.server` must be importable before Prefect's settings are set.
"""
