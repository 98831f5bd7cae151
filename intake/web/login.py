"""Sign-in: the organisation's OpenID Connect provider (Authlib), or the local demo sign-in."""

from __future__ import annotations

import ipaddress
import logging
import warnings
from urllib.parse import urlencode, urlsplit

import authlib.deprecate
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from intake.config import Settings

with warnings.catch_warnings():
    # Authlib 1.9 announces a move from httpx to httpx2; its httpx client works as it is.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth, OAuthError
from intake.web.auth import User, user_from_claims
from intake.web.context import back_to, current_user, flash, language, render, settings
from intake.web.i18n import words
from intake.web.security import checked_form

log = logging.getLogger(__name__)
# The ID token is kept in the session cookie as the sign-out's hint, if it leaves the cookie
# under the browsers' 4 KB; a longer one is not kept (the sign-out then names the client only).
ID_TOKEN_KEPT = 2500

# The demo's people: every role, and a handler of one mailbox. Only on 127.0.0.1.
DEMO_USERS = {
    "behandelaar": ("Demo Behandelaar", "handler", None),
    "lezer": ("Demo Lezer", "viewer", None),
    "beheerder": ("Demo Beheerder", "admin", None),
}


def oauth_client(s: Settings) -> OAuth | None:
    """The OIDC client from [web] oidc_*, or None when no provider is configured."""
    web = s.web
    if not web.oidc_issuer:
        return None
    oauth = OAuth()
    oauth.register(
        "idp", client_id=web.oidc_client_id, client_secret=web.oidc_client_secret.resolve(),
        server_metadata_url=f"{web.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": web.oidc_scope, "code_challenge_method": "S256"},
    )
    return oauth


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def demo_people(s: Settings) -> dict[str, tuple[str, str, tuple[str, ...] | None]]:
    people = dict(DEMO_USERS)
    for m in s.mailboxes:
        people[f"behandelaar-{m.key}"] = (f"Demo Behandelaar {m.key.upper()}", "handler",
                                          (m.key,))
    return people


def origin(url: str) -> str:
    """scheme://host[:port] of a URL (what a Content-Security-Policy source names)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _public_url(request: Request, route: str, path: str) -> str:
    """This console's address of a route: behind the reverse proxy, the configured one."""
    base = settings(request).web.base_url
    return f"{base}{path}" if base else str(request.url_for(route))


async def login_page(request: Request) -> Response:
    if current_user(request) is not None:
        return back_to("/")
    if request.app.state.demo:
        return render(request, "login.html", people=demo_people(settings(request)))
    client = request.app.state.oauth
    if client is None:
        return render(request, "login.html", people={}, status_code=503)
    redirect_uri = _public_url(request, "auth_callback", "/auth/callback")
    return await client.idp.authorize_redirect(request, redirect_uri)


async def auth_callback(request: Request) -> Response:
    client = request.app.state.oauth
    if client is None:
        raise HTTPException(404)
    t = words(language(request))
    try:
        token = await client.idp.authorize_access_token(request)
    except OAuthError as exc:
        log.warning("sign-in failed", extra={"error": exc.error})
        return render(request, "error.html", status_code=401, title=t["error"],
                      text=f"{t['sign_in']}: {exc.error}")
    claims = token.get("userinfo") or {}
    s = settings(request)
    user = user_from_claims(claims, s.web, [m.key for m in s.mailboxes])
    if user is None:
        log.warning("sign-in without a role", extra={"login": claims.get("email", "")})
        return render(request, "error.html", status_code=403, title=t["forbidden"],
                      text=t["forbidden_text"])
    _sign_in(request, user, token.get("id_token"))
    return back_to("/")


def _sign_in(request: Request, user: User, id_token: str | None = None) -> None:
    lang = request.session.get("lang")
    request.session.clear()  # a new session for the signed-in person (no fixation)
    if lang:
        request.session["lang"] = lang
    request.session["user"] = user.to_session()
    if id_token and len(id_token) <= ID_TOKEN_KEPT:  # the hint for the provider's sign-out
        request.session["id_token"] = id_token
    log.info("signed in", extra={"login": user.login, "role": user.role})


async def demo_login(request: Request) -> Response:
    if not request.app.state.demo or not is_loopback(request.client.host if request.client
                                                     else None):
        raise HTTPException(403)
    form = await checked_form(request)
    people = demo_people(settings(request))
    chosen = form.get("who")
    if chosen not in people:
        raise HTTPException(400)
    name, role, boxes = people[chosen]
    _sign_in(request, User(f"{chosen}@demo.invalid", name, role, boxes))
    return back_to("/")


async def logout(request: Request) -> Response:
    """Sign out here and, when the provider's discovery document has an end_session_endpoint,
    there too (OpenID Connect RP-Initiated Logout 1.0): else /login would sign one in again."""
    await checked_form(request)
    id_token = request.session.get("id_token")
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    client = request.app.state.oauth
    if client is None:  # the demo sign-in
        flash(request, "ok", words(language(request))["sign_out"])
        return RedirectResponse("/login", status_code=303)
    endpoint = await _end_session_endpoint(client)
    if not endpoint:
        return RedirectResponse("/signed-out?local=1", status_code=303)
    query = {"client_id": settings(request).web.oidc_client_id,
             "post_logout_redirect_uri": _public_url(request, "signed_out", "/signed-out"),
             "ui_locales": language(request)}
    if id_token:
        query["id_token_hint"] = id_token
    target = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
    if origin(endpoint) not in request.app.state.form_origins:
        # The page's form-action would stop a redirect there: a link instead.
        return render(request, "signed_out.html", continue_url=target)
    log.info("signing out at the provider")
    return RedirectResponse(target, status_code=303)


async def _end_session_endpoint(client: OAuth) -> str | None:
    """The provider's end_session_endpoint, or None (none announced, or discovery failed)."""
    try:
        metadata = await client.idp.load_server_metadata()
    except Exception as exc:  # the provider unreachable: sign out here at least
        log.warning("no provider sign-out", extra={"error": type(exc).__name__})
        return None
    endpoint = metadata.get("end_session_endpoint")
    return endpoint if isinstance(endpoint, str) and origin(endpoint) else None


async def signed_out(request: Request) -> Response:
    """Where the provider sends one back after signing out (no automatic sign-in from here)."""
    if current_user(request) is not None:
        return back_to("/")
    return render(request, "signed_out.html", continue_url=None,
                  local=request.query_params.get("local") == "1")


async def set_language(request: Request) -> Response:
    lang = request.path_params["lang"]
    if lang in ("nl", "fr", "en"):
        request.session["lang"] = lang
    target = request.query_params.get("next", "/")
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return back_to(target if local else "/")
