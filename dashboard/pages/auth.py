"""Login and logout, when a dashboard password is configured."""

from __future__ import annotations

import asyncio

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from dashboard import sessions, throttle
from dashboard.forms import read_form
from dashboard.passwords import verify_password
from dashboard.render import render, set_cookie
from dashboard.web import NOTICES, page_router, see_other, user_of
from shared.auth import keys
from shared.auth import sessions as stored_sessions
from shared.errors import ThrottledError
from shared.handlers.http import runtime
from shared.ports import Runtime

router = page_router(login=False)
USER = stored_sessions.PASSWORD_USER


def safe_next(target: str | None) -> str:
    """Only a path on this site: never `//host`, `/\\host` or a scheme (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(c in target for c in "\r\n\\") or len(target) > 2000:
        return "/"
    return target


async def key_user(rt: Runtime, given: str, error: str) -> tuple[str | None, str]:
    """An API key works as the password too, when its scope can do what the dashboard does
    (write); the session names the key's id, never the key."""
    if not given or len(given) > 200:
        return None, error
    principal = await keys.authenticate(rt.db, rt.settings, given)
    if principal is None:
        return None, error
    if not principal.allows("write"):
        return None, f"That API key's scope is {principal.scope}; the dashboard needs write."
    return stored_sessions.KEY_USER + principal.key_id, error


@router.get("/login", include_in_schema=False)
async def login_form(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    target = safe_next(request.query_params.get("next"))
    if rt.settings.dashboard_password_hash is None or await user_of(request, rt):
        return RedirectResponse(target, status_code=303)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    context = {"next": target, "error": None, "notice": notice}
    return render(request, rt.settings, "login.html", context)


@router.post("/login", include_in_schema=False)
async def login(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    form = await read_form(request)
    target = safe_next(form.get("next"))
    stored = rt.settings.dashboard_password_hash
    if stored is None:
        return RedirectResponse(target, status_code=303)
    client = throttle.client_of(request, rt.settings)
    if not await throttle.count_attempt(rt.cache, USER, client):
        minutes = int(throttle.WINDOW_S // 60)
        raise ThrottledError(
            f"too many failed logins from this address; try again in {minutes} minutes",
            retry_after=int(throttle.WINDOW_S),
        )
    given = form.get("password", "")
    user: str | None = USER
    error = "That password is not right. Try again."
    # scrypt takes tens of milliseconds of CPU: in a thread, so the instance keeps serving
    if not await asyncio.to_thread(verify_password, given, stored.get_secret_value()):
        user, error = await key_user(rt, given, error)
    if user is None:
        context = {"next": target, "error": error}
        return render(request, rt.settings, "login.html", context, status=401)
    await throttle.clear(rt.cache, USER, client)
    response = RedirectResponse(target, status_code=303)
    token = await stored_sessions.open_session(rt.db, rt.settings, user)
    set_cookie(response, request, sessions.SESSION_COOKIE, token, stored_sessions.MAX_AGE_S)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, rt: Runtime = Depends(runtime)) -> Response:
    """Ends the session on every instance, not only in this browser."""
    await stored_sessions.end_session(rt.db, request.cookies.get(sessions.SESSION_COOKIE))
    response = see_other("/login", "logged-out")
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    return response
