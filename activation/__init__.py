"""Activation: orchestration of the activation process for citizens on social assistance.

This package is the domain: the journey as data, deadline and calendar rules, configuration and
use cases. It never imports Prefect, httpx, Jinja2 or a web framework (tests/test_architecture.py).
"""

__version__ = "0.1.0"
