"""Supervisor review (supervisors only; agents get 403 everywhere here), one module per concern:

- ``review_transcripts``: transcript search and view (page, JSON, CSV);
- ``review_qa``: QA scores and notes on a conversation;
- ``review_reveals``: the audited reveal of masked personal data, and the audit log;
- ``review_followups``: low-CSAT follow-ups and closing them;
- ``review_dashboard``: the satisfaction dashboard and its breakdown;
- ``review_shared``: the filters, rows, CSV export (formula-safe cells, ``desk.csv_export``) and refusals
  they share.

Wording: the ``review_*`` keys of the console's one wording file (``desk/console/i18n.yml``), through
the console's one translator (``t`` in the templates).
"""

from __future__ import annotations

from fastapi import APIRouter

from desk.console.routes import review_dashboard, review_followups, review_qa, review_reveals, review_transcripts


def routers() -> list[APIRouter]:
    return [router for module in (review_transcripts, review_qa, review_reveals, review_followups, review_dashboard)
            for router in module.routers()]
