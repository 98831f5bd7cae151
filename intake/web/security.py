"""Security headers on every answer and the CSRF token every form carries."""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No script at all, nothing from elsewhere: the pages are plain HTML forms and one stylesheet.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=(), interest-cohort=()",
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
}
CSRF_FIELD = "csrf"


class SecurityHeaders:
    """Adds the headers above; no-store on pages (they hold personal data); HSTS behind TLS."""

    def __init__(self, app: ASGIApp, hsts: bool, form_origins: tuple[str, ...] = ()) -> None:
        self.app, self.hsts = app, hsts
        self.headers = dict(HEADERS)
        if form_origins:  # sign-out: a form whose answer redirects to the OIDC provider
            self.headers[b"content-security-policy"] = CSP.replace(
                "form-action 'self'", "form-action 'self' " + " ".join(form_origins)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() not in self.headers and k.lower() != b"server"]
                headers.extend(self.headers.items())
                headers.append((b"cache-control",
                                b"public, max-age=3600" if static else b"no-store"))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, wrapped)


def csrf_token(request: Request) -> str:
    """The session's token (made on first use)."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, or 403 when its CSRF token is missing or not this session's."""
    form = await request.form(max_files=1, max_fields=100, max_part_size=20 * 1024 * 1024)
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not (isinstance(sent, str) and expected and hmac.compare_digest(sent, expected)):
        raise HTTPException(403, "csrf")
    return form
