"""The browser and HTTP face of the activation system (FastAPI, server-rendered Jinja2 pages)."""
