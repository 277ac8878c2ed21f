"""Letters and caseworker forms: Jinja2 templates in templates/, with a Pydantic schema each."""

from forms.render import FormError, available_forms, ics, render, render_with_attachment

__all__ = ["FormError", "available_forms", "ics", "render", "render_with_attachment"]
