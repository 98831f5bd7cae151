"""The ASGI application: routes, sessions, security headers, error pages in words."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from intake.config import ConfigError, Settings
from intake.outbound.stafftemplates import safe_text
from intake.store.db import make_engine, make_session_factory
from intake.web import actions, login, pages
from intake.web.context import LoginRequired, back_to, language, render
from intake.web.i18n import long_date, long_datetime, words
from intake.web.security import HEADERS, SecurityHeaders

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


def _templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["long_date"] = long_date
    env.filters["long_datetime"] = long_datetime
    env.filters["clean"] = lambda value, limit=300: safe_text(value, limit)  # no national numbers
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)  # compiled now, not in a person's first request
    return Jinja2Templates(env=env)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    t = words(language(request))
    if exc.status_code == 403:
        text = t["csrf_text"] if exc.detail == "csrf" else t["forbidden_text"]
        title = t["forbidden"]
    elif exc.status_code == 404:
        title, text = t["not_found"], t["not_found_text"]
    else:
        title, text = t["error"], str(exc.detail)
    return render(request, "error.html", status_code=exc.status_code, title=title, text=text)


async def _login_required(request: Request, exc: Exception) -> Response:
    return back_to("/login")


async def _server_error(request: Request, exc: Exception) -> Response:
    # The type only: a message may quote personal data.
    log.error("page failed", extra={"path": request.url.path, "error": type(exc).__name__})
    # Outside the session middleware: no session, so the configured language and a bare page.
    t = words(request.app.state.settings.web.language)
    return HTMLResponse(
        f'<!doctype html><html lang="{request.app.state.settings.web.language}"><head>'
        f'<meta charset="utf-8"><title>{escape(t["error"])}</title>'
        f'<link rel="stylesheet" href="/static/app.css"></head><body><main id="inhoud">'
        f'<h1>{escape(t["error"])}</h1><p>{escape(t["server_error_text"])}</p>'
        f'<p><a href="/">{escape(t["back"])}</a></p></main></body></html>', status_code=500,
        headers={k.decode(): v.decode() for k, v in HEADERS.items()})


def create_app(settings: Settings, *, demo: bool = False,
               clock: Callable[[], datetime] | None = None, session_secret: str | None = None,
               ) -> Starlette:
    """The console for these settings. `demo` enables the local sign-in (127.0.0.1 only);
    `clock` fixes "now" (tests, demo data)."""
    web = settings.web
    secret = session_secret or web.session_secret.resolve()
    if not secret:
        if not demo:
            raise ConfigError(settings.source, "web.session_secret_env",
                              "the console needs a session secret (session_secret_env or "
                              "session_secret_credential)")
        secret = secrets.token_urlsafe(32)  # demo: sessions end with the process
    if not demo and not web.oidc_issuer:
        raise ConfigError(settings.source, "web.oidc_issuer",
                          "no OpenID Connect provider configured (or start with --demo)")
    # Sign-out redirects from a form to the provider: its origin joins the CSP's form-action.
    form_origins = () if demo or not web.oidc_issuer else (login.origin(web.oidc_issuer),)
    routes = [
        Route("/", pages.worklist, name="worklist"),
        Route("/cases/{reference}", pages.case_page, name="case"),
        Route("/cases/{reference}/{action}", actions.case_action, methods=["POST"]),
        Route("/messages/{message_id:int}", pages.message_page, name="message"),
        Route("/messages/{message_id:int}/open-case", actions.open_from_message,
              methods=["POST"]),
        Route("/listed", pages.listed, name="listed"),
        Route("/new", actions.new_case_form, name="new_case"),
        Route("/new", actions.new_case, methods=["POST"]),
        Route("/register", pages.register_page, name="register"),
        Route("/register.csv", pages.register_page, name="register_csv"),
        Route("/digest", pages.digest_page, name="digest"),
        Route("/settings", pages.settings_page, name="settings"),
        Route("/rules/reload", actions.rules_reload, methods=["POST"]),
        Route("/login", login.login_page, name="login"),
        Route("/login/demo", login.demo_login, methods=["POST"]),
        Route("/auth/callback", login.auth_callback, name="auth_callback"),
        Route("/logout", login.logout, methods=["POST"]),
        Route("/signed-out", login.signed_out, name="signed_out"),
        Route("/lang/{lang}", login.set_language),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders, hsts=web.secure_cookies and not demo,
                   form_origins=form_origins),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="intake_session",
                   max_age=web.session_hours * 3600, same_site="lax",
                   https_only=web.secure_cookies and not demo),
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={
        HTTPException: _http_error, LoginRequired: _login_required, Exception: _server_error,
    })
    engine = make_engine(settings.database.url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.clock = clock or (lambda: datetime.now(UTC))
    app.state.demo = demo
    app.state.form_origins = form_origins
    app.state.digest_cache = {}
    app.state.templates = _templates()
    app.state.oauth = None if demo else login.oauth_client(settings)
    return app
