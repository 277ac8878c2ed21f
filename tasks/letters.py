"""Render pending letters from forms/ and store them with the case."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task

import forms
from activation.letters import render_pending_letters
from activation.runtime import get_runtime


@task(name="render-letters", task_run_name="render letters", retries=2, retry_delay_seconds=[1, 5])
def render_letters(now: datetime, batch_size: int) -> dict[str, int]:
    """Render every pending letter; one that fails validation stays pending and is logged by id."""
    report = render_pending_letters(get_runtime().store, forms.render_with_attachment, now, batch_size)
    for letter_id, case_id, why in report.failed:
        get_run_logger().error("letter %s for case %s not rendered: %s", letter_id, case_id, why)
    return {"rendered": report.rendered, "failed": len(report.failed), "pending": report.pending}
