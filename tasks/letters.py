"""Render pending letters from forms/ and store them with the case."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task

import forms
from activation.runtime import get_runtime


@task(name="render-letters", task_run_name="render letters", retries=2, retry_delay_seconds=[1, 5])
def render_letters(now: datetime, batch_size: int) -> dict[str, int]:
    """Render one batch of pending letters; a letter that fails validation stays pending and is logged."""
    rt = get_runtime()
    with rt.store.transaction() as tx:
        pending = tx.pending_letters(batch_size)
    rendered: list[tuple[str, str, str | None]] = []
    failed = 0
    for letter in pending:
        try:
            body, attachment = forms.render_with_attachment(letter["form"], letter["language"], letter["context"])
            rendered.append((letter["id"], body, attachment))
        except forms.FormError as exc:
            failed += 1
            get_run_logger().error("letter %s for case %s not rendered: %s", letter["id"], letter["case_id"], exc)
    with rt.store.transaction() as tx:
        tx.save_rendered(rendered, now)
    return {"rendered": len(rendered), "failed": failed, "pending": len(pending)}
