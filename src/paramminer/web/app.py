"""The web app: routes, pages and the HTTP server (standard library `http.server`, Jinja2).

The warehouse is opened per request and closed again (read-only to show, writable to decide),
so the CLI, an interactive `paramminer review` and other servers can work beside it. Decisions
go through paramminer.review, exactly as the CLI's do.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import jinja2

from paramminer.errors import ParamminerError, WarehouseBusyError
from paramminer.numbers import humanize
from paramminer.pdfpage import PdfUnavailableError, find_pdf, render_png
from paramminer.review import (
    REASON_CODES,
    DecisionConflictError,
    ItemFilter,
    ReviewError,
    UnknownItemError,
    decide,
    parse_value,
    undo_decision,
)
from paramminer.warehouse import Warehouse
from paramminer.web import queue as q
from paramminer.web.security import HEADERS, PAGE_CSP, PLOTLY_CSP, TOKEN_COOKIE, Guard

log = logging.getLogger(__name__)
REVIEWER_COOKIE = "paramminer_reviewer"
REVIEWER_NAME = re.compile(r"[\w .@'+-]{1,64}")
MAX_BODY = 64 * 1024  # bytes of form data a POST may send
PAGE_WIDTH = 1100  # pixels of a rendered page
PAGE_CACHE = 48  # rendered pages kept in memory
STATIC = {"app.css": "text/css; charset=utf-8", "review.js": "text/javascript; charset=utf-8"}
ACTIONS = {"accept", "choose", "set", "reject"}


@dataclass(frozen=True)
class ServeOptions:
    """What `paramminer serve` was asked for."""

    warehouse: Path
    pdf_dir: Path
    reviewer: str
    host: str = "127.0.0.1"
    port: int = 0
    token: str | None = None
    roots: tuple[Path, ...] = ()  # folders a relative ingested path is tried against
    resamples: int = 1000  # bootstrap resamples of the report page


@dataclass
class Request:
    """One HTTP request, parsed."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    cookies: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)

    def param(self, name: str) -> str:
        """A form field, else a query parameter, else ''."""
        return self.form.get(name) or self.query.get(name, "")


@dataclass
class Response:
    """One HTTP response."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """A request that ends in an error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _redirect(location: str, **headers: str) -> Response:
    return Response(HTTPStatus.SEE_OTHER, headers={"Location": location, **headers})


def item_url(key: str, **params: str | int | None) -> str:
    """The item page's URL, with the given query parameters (empty ones left out)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"/item/{quote(key, safe='')}" + (f"?{query}" if query else "")


class WebApp:
    """The routes over one warehouse. `handle` turns a Request into a Response."""

    def __init__(self, options: ServeOptions, guard: Guard) -> None:
        self.options = options
        self.guard = guard
        self.lock = threading.Lock()  # one warehouse connection in this process at a time
        self.pages: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self.pages_lock = threading.Lock()
        self.report_dir = Path(tempfile.mkdtemp(prefix="paramminer-report-"))
        self.report_key: tuple[object, ...] | None = None
        self.report_files: dict[str, Path] = {}
        self.report_parts: list[dict[str, object]] = []
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("paramminer.web", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        self.env.globals.update(item_url=item_url, humanize=humanize, quote=quote)
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/"), self.home),
            ("GET", re.compile(r"/queue"), self.queue_page),
            ("GET", re.compile(r"/item/([^/]+)"), self.item_page),
            ("POST", re.compile(r"/item/([^/]+)/decide"), self.decide),
            ("POST", re.compile(r"/undo"), self.undo),
            ("POST", re.compile(r"/reviewer"), self.set_reviewer),
            ("GET", re.compile(r"/page/([^/]+)/(\d{1,5})\.png"), self.page_image),
            ("GET", re.compile(r"/report"), self.report_page),
            ("GET", re.compile(r"/report/file/([\w.-]+)"), self.report_file),
            ("GET", re.compile(r"/static/([\w.-]+)"), self.static),
        ]

    def close(self) -> None:
        """Remove the report's temporary files."""
        shutil.rmtree(self.report_dir, ignore_errors=True)

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def warehouse(self, *, write: bool = False) -> Iterator[Warehouse]:
        """The warehouse, opened for this request only."""
        with self.lock, Warehouse.open(self.options.warehouse, read_only=not write) as wh:
            yield wh

    def render(self, template: str, status: int = HTTPStatus.OK, **context: object) -> Response:
        """An HTML page from a template (every value escaped by Jinja2's autoescape)."""
        page = self.env.get_template(template).render(
            form_token=self.guard.form_token, reviewer=context.pop("reviewer", ""), **context)
        return Response(status, page.encode("utf-8"))

    def handle(self, request: Request) -> Response:
        """Check the request, route it, and turn errors into pages."""
        if not self.guard.host_ok(request.headers.get("host")):
            return Response(HTTPStatus.MISDIRECTED_REQUEST, b"unexpected Host header",
                            "text/plain; charset=utf-8")
        query_token = request.query.get("token")
        if not self.guard.token_ok(request.cookies, request.headers, query_token):
            return self.render("message.html", HTTPStatus.UNAUTHORIZED, title="Token needed",
                               message="This server needs its access token: open the URL "
                                       "`paramminer serve` printed.")
        if query_token and self.guard.token:  # move the token from the URL into a cookie
            rest = {k: v for k, v in request.query.items() if k != "token"}
            target = request.path + (f"?{urlencode(rest)}" if rest else "")
            return _redirect(target, **{"Set-Cookie": self.guard.cookie()})
        if request.method == "POST":
            refused = self.guard.post_ok(request.form.get("form_token"), request.headers)
            if refused:
                return self.render("message.html", HTTPStatus.FORBIDDEN, title="Refused",
                                   message=refused)
        try:
            return self.route(request)
        except HttpError as exc:
            return self.render("message.html", exc.status, title=HTTPStatus(exc.status).phrase,
                               message=str(exc))
        except WarehouseBusyError as exc:
            return self.render("message.html", HTTPStatus.SERVICE_UNAVAILABLE,
                               title="Warehouse busy", message=str(exc))
        except ParamminerError as exc:
            return self.render("message.html", HTTPStatus.INTERNAL_SERVER_ERROR,
                               title="Error", message=str(exc))

    def route(self, request: Request) -> Response:
        """The handler whose pattern matches the path."""
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match:
                allowed = True
                if method == request.method:
                    return handler(request, *(unquote(g) for g in match.groups()))
        if allowed:
            raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"{request.method} not allowed here")
        raise HttpError(HTTPStatus.NOT_FOUND, f"no page {request.path}")

    def reviewer(self, request: Request) -> str:
        """The reviewer's name: their cookie, else the server's --by."""
        name = request.cookies.get(REVIEWER_COOKIE, "")
        return name if REVIEWER_NAME.fullmatch(name) else self.options.reviewer

    @staticmethod
    def where(request: Request) -> tuple[ItemFilter, dict[str, str]]:
        """The queue filter of a request, and the same as URL parameters to pass along."""
        reason, domain = request.param("reason"), request.param("domain")
        if reason and reason not in REASON_CODES:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"unknown reason code {reason!r}")
        params = {k: v for k, v in (("reason", reason), ("domain", domain)) if v}
        return ItemFilter((reason,) if reason else (), domain or None), params

    # ------------------------------------------------------------------ review pages

    def home(self, request: Request) -> Response:
        """The queue is the start page."""
        return _redirect("/queue")

    def queue_page(self, request: Request) -> Response:
        """Open items in work order, filters, progress."""
        where, params = self.where(request)
        with self.warehouse() as wh:
            queue = q.load_queue(wh.con, where)
            reasons, domains = q.facets(wh.con)
        return self.render("queue.html", queue=queue, reasons=reasons, domains=domains,
                           params=params, reviewer=self.reviewer(request),
                           last=request.query.get("last", ""))

    def item_page(self, request: Request, key: str, *, status: int = HTTPStatus.OK,
                  error: str = "") -> Response:
        """One item: the page image with its marks, candidates, decision, history."""
        where, params = self.where(request)
        show = request.query.get("show", "")
        with self.warehouse() as wh:
            try:
                page = q.load_item_page(wh.con, key, self.options.pdf_dir, self.options.roots,
                                        int(show) if show.isdigit() else None)
            except UnknownItemError as exc:
                raise HttpError(HTTPStatus.NOT_FOUND, str(exc)) from None
            queue = q.load_queue(wh.con, where)
        following = queue.after(key)
        if following is not None:
            self.prefetch(following.paper_id, following.page)
        return self.render("item.html", status, page=page, queue=queue, params=params,
                           next_key=following.item_key if following else None,
                           position=queue.position(key), reviewer=self.reviewer(request),
                           last=request.query.get("last", ""), error=error,
                           value=request.form.get("value", ""),
                           version=page.pdf.sha256[:12] if page.pdf else "")

    def _seen(self, request: Request) -> int | None:
        seen = request.form.get("seen")
        if seen is None or not (seen == "" or seen.isdigit()):
            raise HttpError(HTTPStatus.BAD_REQUEST, "the form does not say which decision "
                                                    "you saw (reload the item)")
        return int(seen) if seen else None

    def decide(self, request: Request, key: str) -> Response:
        """Record a decision, unless someone decided the item since the reviewer looked."""
        action, _, number = request.form.get("choice", "").partition(":")
        if action not in ACTIONS:
            raise HttpError(HTTPStatus.BAD_REQUEST, f"unknown choice {action!r}")
        seen = self._seen(request)
        where, params = self.where(request)
        kwargs: dict[str, object] = {}
        try:
            if action == "choose":
                kwargs["candidate_number"] = int(number)
            if action == "set":
                kwargs["value"], kwargs["active"] = parse_value(request.form.get("value", ""))
        except ValueError as exc:
            return self.item_page(request, key, status=HTTPStatus.BAD_REQUEST,
                                  error=str(exc) or "not a number")
        note = request.form.get("note", "").strip() or None
        try:
            with self.warehouse(write=True) as wh:
                made = decide(wh, key, action, reviewer=self.reviewer(request), note=note,
                              origin="web", seen_decision=seen, **kwargs)  # type: ignore[arg-type]
                following = q.load_queue(wh.con, where).after(key)
        except DecisionConflictError as exc:
            return self.conflict(request, exc, action, params)
        except UnknownItemError as exc:
            raise HttpError(HTTPStatus.NOT_FOUND, str(exc)) from None
        except ReviewError as exc:
            return self.item_page(request, key, status=HTTPStatus.BAD_REQUEST, error=str(exc))
        if following is None:
            return _redirect("/queue?" + urlencode({**params, "last": made.decision_id}))
        return _redirect(item_url(following.item_key, last=made.decision_id, **params))

    def conflict(self, request: Request, exc: DecisionConflictError, action: str,
                 params: dict[str, str]) -> Response:
        """Someone else decided first: show their decision and ask to confirm."""
        return self.render("conflict.html", HTTPStatus.CONFLICT, item=exc.item, action=action,
                           form=request.form, params=params, reviewer=self.reviewer(request))

    def undo(self, request: Request) -> Response:
        """Cancel a decision (appends an undo row) and show its item again."""
        decision = request.form.get("decision", "")
        if not decision.isdigit():
            raise HttpError(HTTPStatus.BAD_REQUEST, "nothing to undo")
        _, params = self.where(request)
        try:
            with self.warehouse(write=True) as wh:
                made = undo_decision(wh, int(decision), reviewer=self.reviewer(request),
                                     origin="web")
        except ReviewError as exc:
            raise HttpError(HTTPStatus.CONFLICT, str(exc)) from None
        return _redirect(item_url(made.item_key, **params))

    def set_reviewer(self, request: Request) -> Response:
        """Remember the reviewer's name in a cookie (decisions carry it)."""
        name = " ".join(request.form.get("name", "").split())
        if not REVIEWER_NAME.fullmatch(name):
            raise HttpError(HTTPStatus.BAD_REQUEST, "a name is 1-64 letters, digits, spaces "
                                                    "or . @ ' + - _")
        return _redirect("/queue", **{
            "Set-Cookie": f"{REVIEWER_COOKIE}={quote(name)}; SameSite=Strict; Path=/"})

    def page_image(self, request: Request, paper_id: str, number: str) -> Response:
        """A known paper's known page as a PNG (anything else is a 404)."""
        try:
            png = self.page_png(paper_id, int(number))
        except PdfUnavailableError as exc:
            raise HttpError(HTTPStatus.NOT_FOUND, str(exc)) from None
        return Response(HTTPStatus.OK, png, "image/png",
                        {"Cache-Control": "private, max-age=86400"})

    def page_png(self, paper_id: str, page: int) -> bytes:
        """The rendered page, from the cache when it was rendered lately."""
        with self.warehouse() as wh:
            pdf = find_pdf(wh.con, paper_id, self.options.pdf_dir, self.options.roots)
        if not 1 <= page <= pdf.n_pages:
            raise PdfUnavailableError(f"{paper_id} has no page {page}")
        key = (pdf.sha256, page)
        with self.pages_lock:
            png = self.pages.get(key)
        if png is None:
            png = render_png(pdf, page, PAGE_WIDTH)
            with self.pages_lock:
                self.pages[key] = png
                while len(self.pages) > PAGE_CACHE:
                    self.pages.popitem(last=False)
        return png

    def prefetch(self, paper_id: str, page: int | None) -> None:
        """Render the next item's page in the background while the reviewer reads this one."""
        def work() -> None:
            try:
                self.page_png(paper_id, page or 1)
            except (ParamminerError, OSError) as exc:
                log.info("prefetch of %s p%s skipped: %s", paper_id, page, exc)

        threading.Thread(target=work, name="prefetch", daemon=True).start()

    # ------------------------------------------------------------------ report and files

    def report_page(self, request: Request) -> Response:
        """The analysts' charts (rebuilt when the data changed since the last build)."""
        from paramminer.web import report_view

        with self.warehouse(write=True) as wh:
            report_view.refresh(self, wh)
        return self.render("report.html", parts=self.report_parts,
                           interactive="report.html" in self.report_files,
                           reviewer=self.reviewer(request))

    def report_file(self, request: Request, name: str) -> Response:
        """A chart of the last report build (only the files that build wrote)."""
        path = self.report_files.get(name)
        if path is None or not path.is_file():
            raise HttpError(HTTPStatus.NOT_FOUND, f"no report file {name} (open /report first)")
        if name.endswith(".png"):
            return Response(HTTPStatus.OK, path.read_bytes(), "image/png")
        return Response(HTTPStatus.OK, path.read_bytes(), headers={
            "Content-Security-Policy": PLOTLY_CSP})

    def static(self, request: Request, name: str) -> Response:
        """The stylesheet and the key handler."""
        if name not in STATIC:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no static file {name}")
        data = resources.files("paramminer.web").joinpath("static", name).read_bytes()
        return Response(HTTPStatus.OK, data, STATIC[name], {"Cache-Control": "no-cache"})


# ---------------------------------------------------------------------- HTTP server


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "paramminer"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s " + format, self.address_string(), *args)

    def _request(self) -> Request | None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        cookies = {k: unquote(m.value) for k, m in SimpleCookie(headers.get("cookie", "")).items()}
        form: dict[str, str] = {}
        if self.command == "POST":
            length = int(headers.get("content-length", "0") or 0)
            if length > MAX_BODY:
                self._send(Response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"form too large",
                                    "text/plain; charset=utf-8"))
                return None
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        return Request(self.command, parts.path, query, headers, cookies, form)

    def _serve(self) -> None:
        request = self._request()
        if request is None:
            return
        try:
            response = self.server.app.handle(request)
        except Exception:  # a bug: log it, answer 500, keep serving
            log.exception("%s %s failed", request.method, request.path)
            response = Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error (see the "
                                b"server's log)", "text/plain; charset=utf-8")
        self._send(response)

    do_GET = _serve
    do_POST = _serve

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        headers = {**HEADERS, "Content-Type": response.content_type,
                   "Content-Length": str(len(response.body))}
        if response.content_type.startswith("text/html"):
            headers |= {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
        for name, value in (headers | response.headers).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: WebApp


def make_server(options: ServeOptions) -> tuple[_Server, str]:
    """A bound server (not yet serving) and the URL to print."""
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    server_class = type("Server", (_Server,), {"address_family": family})
    server = server_class((options.host, options.port), _Handler)
    port = int(server.server_address[1])
    guard = Guard(options.host, port, options.token)
    server.app = WebApp(options, guard)
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{port}/"
    if options.token:
        url += f"?{urlencode({'token': options.token})}"
    return server, url


__all__ = ["TOKEN_COOKIE", "ServeOptions", "WebApp", "make_server"]
