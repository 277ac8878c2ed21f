"""Thin Prefect tasks: one use case or adapter call each, working on a batch of cases."""

from tasks.alarms import escalate, send_reminders
from tasks.letters import render_letters
from tasks.todos import create_todos

__all__ = ["create_todos", "escalate", "render_letters", "send_reminders"]
