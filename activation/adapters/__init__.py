"""Adapters: the database and other outside things the domain talks to through ports."""
