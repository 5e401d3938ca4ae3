"""The dashboard's pages: one router module per page, mounted in the order of ROUTERS.

Adding a page (say "Webhooks"):
1. `dashboard/pages/webhooks.py` with `router = page_router()` (from dashboard.web) and its
   routes, each answering `page(request, rt, "webhooks.html", {...})`; reads and writes go in
   `dashboard/queries/webhooks.py` (or a shared/repo module the API uses too).
2. `dashboard/templates/webhooks.html` extending "base.html", with
   `{% from "_macros.html" import csrf_input, pager with context %}`: one h1, a label for
   every input, forms that POST carrying `{{ csrf_input() }}`, lists paginated with
   `{{ pager(next_cursor) }}` (cursors from shared/pagination/keyset.py) and an empty state that
   says what to do next. tests/e2e/htmlcheck.py checks the markup.
3. Its line in ROUTERS below and a NavEntry in dashboard/nav.py; a form route that POSTs
   also needs its path in serverless.yml under the dashboard function.
Login, CSRF, error pages, security headers and static assets come with page_router().
"""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.pages import (
    alerts,
    analytics,
    auth,
    deadletters,
    documents,
    functions,
    overview,
    runs,
    sources,
    webhooks,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    overview.router,
    functions.router,
    runs.router,
    documents.router,
    sources.router,
    analytics.router,
    deadletters.router,
    alerts.router,
    webhooks.router,
)
