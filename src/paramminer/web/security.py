"""The web app's guards: which hosts may serve it, the access token, cross-site POSTs.

- Bound to a loopback address (the default), requests must name that address in their Host
  header (a DNS-rebinding page cannot reach the app under its own name).
- Bound to any other interface, a token is required; every request must carry it (a cookie
  set from the printed URL's `?token=`, or `Authorization: Bearer TOKEN`).
- Every POST must carry the per-server form token, and a browser's Origin and Sec-Fetch-Site
  headers, when present, must say the request comes from the app's own pages.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping

TOKEN_COOKIE = "paramminer_token"
SAME_SITE = ("same-origin", "none")  # Sec-Fetch-Site values of the app's own requests
HEADERS = {  # sent with every response
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chrome send Origin: null
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
# Pages: nothing inline, nothing from elsewhere (page images and marks are same-origin).
PAGE_CSP = ("default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# The plotly report page inlines its own script; it still may not load or send anything.
PLOTLY_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
              "script-src 'unsafe-inline' 'unsafe-eval'; font-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'none'")


def is_loopback(host: str) -> bool:
    """Whether `host` (an address or 'localhost') is on this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random token for URLs and forms."""
    return secrets.token_urlsafe(24)


def same(secret: str | None, given: str | None) -> bool:
    """Constant-time comparison; False when either is missing."""
    return bool(secret) and bool(given) and hmac.compare_digest(str(secret), str(given))


class Guard:
    """The checks of one server: its address, its access token, its form token."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.form_token = new_token()
        self.loopback = is_loopback(host)

    def allowed_hosts(self) -> set[str]:
        """Host header values a loopback server answers to."""
        names = {self.host, "127.0.0.1", "localhost", "[::1]"}
        return {f"{name}:{self.port}" for name in names}

    def host_ok(self, host_header: str | None) -> bool:
        """The Host header names this server (checked on loopback binds only)."""
        if not self.loopback:
            return True
        return (host_header or "").lower() in self.allowed_hosts()

    def token_ok(self, cookies: Mapping[str, str], headers: Mapping[str, str],
                 query_token: str | None) -> bool:
        """The request carries the access token (always true when the server has none)."""
        if self.token is None:
            return True
        bearer = headers.get("authorization", "")
        given = bearer[7:].strip() if bearer.lower().startswith("bearer ") else None
        return any(same(self.token, value)
                   for value in (cookies.get(TOKEN_COOKIE), given, query_token))

    def post_ok(self, form_token: str | None, headers: Mapping[str, str]) -> str | None:
        """None when a POST may proceed, else why it is refused."""
        if not same(self.form_token, form_token):
            return "the form is missing this server's token (reload the page and try again)"
        site = headers.get("sec-fetch-site")
        if site is not None and site not in SAME_SITE:
            return f"cross-site request refused (Sec-Fetch-Site: {site})"
        origin = headers.get("origin")
        if origin is not None and origin != f"http://{headers.get('host', '')}":
            return f"request from another origin refused ({origin})"
        return None

    def cookie(self) -> str:
        """The Set-Cookie value that carries the access token."""
        return f"{TOKEN_COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
