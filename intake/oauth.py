"""OAuth2 app-only access tokens (msal client credentials) for IMAP and SMTP, cached in memory."""

from __future__ import annotations

import base64
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from intake.config import ConfigError, OAuth2Settings

log = logging.getLogger(__name__)

# Refresh this long before a token expires (or at a tenth of its lifetime when that is shorter).
REFRESH_MARGIN = 300.0
HTTP_TIMEOUT = 30.0


class TokenError(RuntimeError):
    """No token: `kind` says why in one word, the message in plain words (never a secret).

    kind: tenant | invalid_client | permission | network | tls | config | other
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class _Cached:
    token: str
    refresh_at: float  # time.monotonic()


class TokenProvider:
    """Tokens for one app registration and scope; thread-safe; one HTTP request per refresh."""

    def __init__(self, settings: OAuth2Settings, clock: Any = time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._app: Any = None
        self._cached: _Cached | None = None
        self.fetched = 0  # tokens obtained from the authority (for tests and `config check`)

    def token(self) -> str:
        """A valid access token: the cached one, or a new one when it is near expiry."""
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() < cached.refresh_at:
                return cached.token
            return self._fetch()

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (after a server refused it); the next token() fetches anew."""
        with self._lock:
            if token is None or (self._cached is not None and self._cached.token == token):
                self._cached = None

    def _fetch(self) -> str:
        app = self._application()
        # msal keeps its own cache and would hand back the token the server just refused.
        app.remove_tokens_for_client()
        try:
            result = app.acquire_token_for_client(scopes=[self.settings.scope])
        except Exception as exc:  # requests' connection/TLS errors, msal's ValueErrors
            raise _from_exception(exc, self.settings) from None
        if not isinstance(result, dict) or "access_token" not in result:
            raise _from_response(result if isinstance(result, dict) else {}, self.settings)
        token = str(result["access_token"])
        lifetime = float(result.get("expires_in") or 3600)
        margin = min(REFRESH_MARGIN, lifetime / 10)
        self._cached = _Cached(token=token, refresh_at=self._clock() + lifetime - margin)
        self.fetched += 1
        log.info(
            "oauth2 token obtained",
            extra={"client_id": self.settings.client_id, "expires_in": int(lifetime)},
        )
        return token

    def _application(self) -> Any:
        if self._app is not None:
            return self._app
        import msal

        s = self.settings
        try:
            if s.certificate.configured:
                credential: Any = {
                    "private_key": s.certificate.resolve(),
                    "thumbprint": s.certificate_thumbprint,
                }
            else:
                credential = s.client_secret.resolve()
        except ConfigError as exc:
            raise TokenError(f"no client secret or certificate: {exc}", "config") from None
        try:
            self._app = msal.ConfidentialClientApplication(
                s.client_id,
                client_credential=credential,
                authority=s.authority_url,
                # Microsoft's own hosts need no instance discovery; another authority (a test
                # stand-in, a sovereign cloud) is then read from its OpenID discovery document.
                instance_discovery=False,
                http_client=_http_client(s.authority_ca_file),
            )
        except Exception as exc:
            raise _from_exception(exc, s) from None
        return self._app


def _http_client(ca_file: str) -> Any:
    """A requests session that trusts `ca_file` (if set) even when REQUESTS_CA_BUNDLE is set:
    requests lets the environment override a session's verify, but not a request's."""
    import functools

    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=1))
    session.request = functools.partial(  # type: ignore[method-assign]
        session.request, timeout=HTTP_TIMEOUT, verify=ca_file or True
    )
    return session


_providers: dict[OAuth2Settings, TokenProvider] = {}
_providers_lock = threading.Lock()


def provider_for(settings: OAuth2Settings) -> TokenProvider:
    """The one TokenProvider of these settings in this process (tokens outlive connections)."""
    with _providers_lock:
        provider = _providers.get(settings)
        if provider is None:
            provider = _providers[settings] = TokenProvider(settings)
        return provider


def forget_providers() -> None:
    """Drop every cached provider and token (tests; a settings reload)."""
    with _providers_lock:
        _providers.clear()


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response, before base64: user=…^Aauth=Bearer …^A^A."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def xoauth2_base64(user: str, token: str) -> str:
    return base64.b64encode(xoauth2_string(user, token).encode()).decode("ascii")


def scrub(text: str, *secrets: str | None) -> str:
    """Text with every given secret replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# AADSTS codes Microsoft Entra puts at the start of error_description.
_AADSTS = {
    "AADSTS90002": ("tenant", "tenant {tenant} not found: check the tenant ID or domain"),
    "AADSTS900023": ("tenant", "tenant {tenant} is not a valid tenant ID or domain"),
    "AADSTS700016": (
        "invalid_client",
        "application {client_id} not found in tenant {tenant}: check client_id and tenant",
    ),
    "AADSTS7000215": (
        "invalid_client",
        "the client secret of application {client_id} is wrong: check the secret's value "
        "(not its ID)",
    ),
    "AADSTS7000222": (
        "invalid_client",
        "the client secret of application {client_id} has expired: create a new one",
    ),
    "AADSTS700027": (
        "invalid_client",
        "the certificate of application {client_id} is not accepted: check that it is uploaded "
        "to the app registration and that certificate_thumbprint matches it",
    ),
    "AADSTS500011": (
        "permission",
        "the resource of scope {scope} is not available in tenant {tenant}: is Exchange "
        "Online licensed there?",
    ),
    "AADSTS65001": (
        "permission",
        "application {client_id} has no admin consent for {scope}: grant admin consent",
    ),
    "AADSTS7000112": ("invalid_client", "application {client_id} is disabled"),
}


def _from_response(result: dict[str, Any], s: OAuth2Settings) -> TokenError:
    error = str(result.get("error") or "no token in the answer")
    description = str(result.get("error_description") or "")
    words = {"tenant": s.tenant, "client_id": s.client_id, "scope": s.scope}
    for code, (kind, text) in _AADSTS.items():
        if description.startswith(code + ":") or f" {code}:" in description:
            return TokenError(f"{text.format(**words)} ({code})", kind)
    first_line = description.splitlines()[0][:200] if description else ""
    if error == "invalid_client":
        return TokenError(
            f"application {s.client_id} was refused by {s.authority_url}: wrong, expired or "
            f"revoked secret/certificate ({first_line or error})",
            "invalid_client",
        )
    if error in ("unauthorized_client", "invalid_scope", "access_denied"):
        return TokenError(
            f"application {s.client_id} may not obtain {s.scope}: {first_line or error}",
            "permission",
        )
    return TokenError(f"{s.authority_url} refused a token: {error} {first_line}".strip(), "other")


def _from_exception(exc: Exception, s: OAuth2Settings) -> TokenError:
    text = str(exc)
    name = type(exc).__name__
    if "SSLError" in name or "CERTIFICATE_VERIFY_FAILED" in text:
        hint = "" if s.authority_ca_file else " (authority_ca_file for a private CA)"
        return TokenError(f"TLS with {s.authority_url} failed: certificate not trusted{hint}",
                          "tls")
    if "OIDC Discovery failed" in text or "Unable to get authority configuration" in text:
        return TokenError(
            f"tenant {s.tenant} not found at {s.authority_url}: check the tenant ID or domain",
            "tenant",
        )
    if "ConnectionError" in name or "Timeout" in name or isinstance(exc, OSError):
        return TokenError(f"cannot reach {s.authority_url}: {name}", "network")
    if "private key" in text.lower() or "Could not deserialize" in text:
        return TokenError("the certificate's private key is not a PEM private key", "config")
    return TokenError(f"no token from {s.authority_url}: {name}: {text[:200]}", "other")
