"""HTML form bodies (application/x-www-form-urlencoded), read with a size cap."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from shared.errors import BadRequestError, PayloadError

MAX_FORM_BYTES = 256 * 1024


class Form(dict[str, str]):
    """Fields of a submitted form; a repeated field keeps its first value."""

    def text(self, name: str) -> str:
        return self.get(name, "").strip()


async def read_form(request: Request) -> Form:
    """The submitted fields, cached on the request so the CSRF check and the page share them."""
    cached = getattr(request.state, "form", None)
    if isinstance(cached, Form):
        return cached
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise BadRequestError(
            f"expected a form (application/x-www-form-urlencoded), got {kind or 'no body type'}"
        )
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PayloadError(f"the form is larger than {MAX_FORM_BYTES // 1024} KiB")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequestError(f"the form could not be read: {exc}") from exc
    form = Form({name: values[0] for name, values in fields.items()})
    request.state.form = form
    return form
