"""Prefect flows: short, idempotent, each moving cases one step or firing due alarms in batches."""

from flows.advance import advance
from flows.intake import intake
from flows.sweep import deadline_sweep

__all__ = ["advance", "deadline_sweep", "intake"]
