"""``metastore serve``: the Starlette app (routes → :mod:`api`), its security checks, and the
uvicorn runner. Imported only by the ``serve`` command (and tests): no other command pays for
Starlette, uvicorn or Pillow.

Security (each has a test in ``tests/test_serve_api.py``):

* Binds 127.0.0.1 unless told otherwise (the CLI warns then).
* Host header check against DNS rebinding: the host must be ``localhost``, an IP literal, or the
  ``--host`` given, with the served port. A rebinding attack needs a domain name, so it is refused.
* Reads: a request another site's page makes (``Sec-Fetch-Site: cross-site`` or ``same-site``)
  is refused, except a link to the page itself; every answer carries
  ``Cross-Origin-Resource-Policy: same-origin``, so no other page can embed thumbnails or files.
* Writes (export, edits) only by POST with ``Content-Type: application/json`` (a cross-origin
  page cannot send that without a preflight, which is never granted), the per-session token in
  ``X-Metastore-Token`` (the page gets it inside index.html), and, when the browser sends
  ``Origin``/``Sec-Fetch-Site``, a same-origin one.
* Files: only catalog paths under ``--media-root``, resolved (symlinks too) and checked to stay
  inside it (:meth:`api.Api.media_file`).
* Edits only with ``--allow-edits``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import mimetypes
import secrets
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import MetastoreError, UsageError
from .api import Api, error_body, error_status, whole_number
from .thumbs import PLACEHOLDER, SIZES, Thumbnails

STATIC = ("app.js", "app.css")
_TYPES = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
TOKEN_HEADER = "x-metastore-token"
#: How long the server keeps an idle catalog attached (``store.warm.linger``).
SERVE_LINGER_SECONDS = 600.0
_CORP = (b"cross-origin-resource-policy", b"same-origin")


def _static(name: str) -> bytes:
    return resources.files("metastore.web").joinpath("static", name).read_bytes()


def host_allowed(host_header: str, served_host: str, port: int) -> bool:
    """Whether a request's Host names this server: ``localhost``, an IP literal or the served
    host, with the served port (a default port is never ours: we always serve on an explicit one)."""
    if host_header.startswith("["):
        name, close, rest = host_header[1:].partition("]")
        if not close or not rest.startswith(":"):
            return False
        port_text = rest[1:]
    else:
        name, sep, port_text = host_header.partition(":")
        if not sep:
            return False
    if port_text != str(port) or not name:
        return False
    if name.lower() in ("localhost", served_host.lower()):
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class Guard:
    """ASGI middleware: the Host check on every request, the write checks on every POST."""

    def __init__(self, app, *, host: str, port: int, token: str) -> None:
        self.app, self.host, self.port, self.token = app, host, port, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = None
        host = headers.get("host", "")
        if not host_allowed(host, self.host, self.port):
            problem = (421, f"this server answers only to its own address (got Host: {host!r})")
        elif scope["method"] not in ("GET", "HEAD", "POST"):
            problem = (405, f"method {scope['method']} not allowed")
        else:
            problem = self._site_problem(headers, scope)
            if problem is None and scope["method"] == "POST":
                problem = self._post_problem(headers, host)

        async def send_same_origin(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), _CORP]}
            await send(message)

        if problem is None:
            return await self.app(scope, receive, send_same_origin)
        response = JSONResponse({"error": {"message": problem[1], "help": None}}, status_code=problem[0])
        await response(scope, receive, send_same_origin)

    @staticmethod
    def _site_problem(headers: dict, scope):
        """Fetch metadata: refuse what another site's page asks (a link to the page excepted)."""
        site = headers.get("sec-fetch-site")
        if site not in ("cross-site", "same-site"):
            return None  # same-origin, typed in (none), or not a browser
        if scope["method"] == "GET" and scope["path"] == "/" and headers.get("sec-fetch-mode") == "navigate":
            return None
        return 403, f"cross-site request refused (Sec-Fetch-Site: {site})"

    def _post_problem(self, headers: dict, host: str):
        if headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return 415, "POST needs Content-Type: application/json"
        origin = headers.get("origin")
        if origin is not None and origin != f"http://{host}":
            return 403, f"cross-origin request refused (Origin: {origin})"
        if not hmac.compare_digest(headers.get(TOKEN_HEADER, ""), self.token):
            return 403, "missing or wrong session token (X-Metastore-Token)"
        return None


def _json(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, default=str, allow_nan=False).encode("utf-8")
    return Response(body, status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _int_param(request: Request, name: str, default=None):
    value = whole_number(request.query_params.get(name), name)
    return default if value is None else value


def _list_param(request: Request, name: str) -> list[str]:
    raw = request.query_params.get(name) or ""
    return [p.strip() for p in raw.split(",") if p.strip()]


def create_app(api: Api, *, host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
               thumbs: Thumbnails | None = None):
    """The ASGI app serving ``api``; ``token`` is the session's write token (random by default)."""
    token = token or secrets.token_urlsafe(24)
    thumbs = thumbs or Thumbnails()
    index = _static("index.html").decode("utf-8").replace("{{TOKEN}}", token)
    page_headers = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}

    def guarded(fn):
        def endpoint(request: Request) -> Response:
            try:
                return fn(request)
            except Exception as exc:  # noqa: BLE001 - every answer of the API is JSON
                return _failure(exc)
        endpoint.__name__ = fn.__name__
        return endpoint

    def home(request: Request) -> Response:
        return Response(index, media_type="text/html; charset=utf-8", headers=page_headers)

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return _json({"error": {"message": "not found", "help": None}}, 404)
        return Response(_static(name), media_type=_TYPES[name],
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})

    q = lambda request: request.query_params.get("q", "")  # noqa: E731

    def info(request):
        return _json(api.info())

    def search(request):
        return _json(api.search(q(request), sort=request.query_params.get("sort") or None,
                                offset=_int_param(request, "offset", 0), limit=_int_param(request, "limit", 100),
                                columns=_list_param(request, "columns"),
                                after=request.query_params.get("after") or None))

    def count(request):
        return _json(api.count(q(request)))

    def explain(request):
        return _json(api.explain(q(request)))

    def complete(request):
        return _json(api.complete(q(request), _int_param(request, "cursor"), _int_param(request, "limit", 30)))

    def facets(request):
        return _json(api.facets(_list_param(request, "keys"), q(request), bins=_int_param(request, "bins", 20),
                                top=_int_param(request, "top", 10)))

    def export_preview(request):
        return _json(api.export_preview(dict(request.query_params)))

    def image(request):
        return _json(api.image(request.query_params.get("path", "")))

    def thumb(request):
        size = _int_param(request, "size", 256)
        if size not in SIZES:
            raise UsageError(f"size must be one of {', '.join(map(str, SIZES))}, got {size}")
        path = request.query_params.get("path", "")
        try:
            src = api.media_file(path)
            data, how = thumbs.get(src, size)
        except MetastoreError as exc:
            return _placeholder("not served", error_status(exc), str(exc))
        except Exception as exc:  # noqa: BLE001 - a tile is a placeholder, never an error page
            _log(exc)
            return _placeholder("error", 500, f"error: {type(exc).__name__}")
        if data is None:
            return _placeholder(how, 200, how)
        return Response(data, media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=60", "X-Thumbnail": how,
                                 "X-Content-Type-Options": "nosniff"})

    def media(request):
        src = api.media_file(request.query_params.get("path", ""))
        if not src.is_file():
            return _placeholder("missing", 404, "missing")
        kind = mimetypes.guess_type(src.name)[0] or "application/octet-stream"
        return FileResponse(src, media_type=kind, headers={
            "Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=60"})

    async def _body(request: Request) -> dict:
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise UsageError("the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise UsageError("the request body must be a JSON object")
        return data

    def post(fn):
        async def endpoint(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            try:
                data = await _body(request)
                return _json(await run_in_threadpool(fn, data))
            except Exception as exc:  # noqa: BLE001 - every answer of the API is JSON
                return _failure(exc)
        return endpoint

    routes = [
        Route("/", home),
        Route("/static/{name}", static),
        Route("/api/info", guarded(info)),
        Route("/api/search", guarded(search)),
        Route("/api/count", guarded(count)),
        Route("/api/explain", guarded(explain)),
        Route("/api/complete", guarded(complete)),
        Route("/api/facets", guarded(facets)),
        Route("/api/export/preview", guarded(export_preview)),
        Route("/api/image", guarded(image)),
        Route("/api/thumb", guarded(thumb)),
        Route("/api/media", guarded(media)),
        Route("/api/export", post(api.export), methods=["POST"]),
        Route("/api/edit", post(api.edit), methods=["POST"]),
    ]
    return Guard(Starlette(routes=routes), host=host, port=port, token=token)


def _failure(exc: Exception) -> Response:
    """An exception as the API's JSON error: a MetastoreError with its status; anything else is
    a bug (or the machine: a full disk): 500, the traceback on the server's stderr."""
    if isinstance(exc, MetastoreError):
        return _json(error_body(exc), error_status(exc))
    _log(exc)
    return _json({"error": {"message": f"internal error: {type(exc).__name__}: {str(exc)[:200]}",
                            "help": "the traceback is in the server's output (please report it)"}}, 500)


def _log(exc: Exception) -> None:
    import sys
    import traceback

    traceback.print_exception(exc, file=sys.stderr)


def _placeholder(label: str, status: int, reason: str) -> Response:
    from xml.sax.saxutils import escape

    return Response(PLACEHOLDER.replace("{label}", escape(label)), status_code=status, media_type="image/svg+xml",
                    headers={"X-Thumbnail": reason.encode("ascii", "replace").decode()[:200],
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})


def serve(catalog, *, host: str = "127.0.0.1", port: int = 8765, media_root: str | Path = ".",
          allow_edits: bool = False, open_browser: bool = False, echo=print, note=None) -> None:
    """Serve ``catalog`` until Ctrl-C. Port 0 picks a free port (the printed URL says which).
    ``note``: where advice for the user goes (the CLI: stderr), e.g. that ``optimize`` would help."""
    import socket

    import uvicorn

    root = Path(media_root)
    if not root.is_dir():
        raise UsageError(f"--media-root {root} is not a folder")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP; without it
    # each response (headers, then body) waited ~40 ms for a delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         help="pick another port with --port (0 picks a free one)") from None
    sock.listen(128)
    port = sock.getsockname()[1]
    from ..store.warm import linger

    # the catalog stays attached (DuckDB's cache warm) across the user's pauses, not just 5 s:
    # a search after a pause was 1.4x the same search warm; writers signal and get it at once
    linger(SERVE_LINGER_SECONDS)
    api = Api(catalog, media_root=root, allow_edits=allow_edits, note=note)
    app = create_app(api, host=host, port=port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    echo(f"metastore serve: {url}  (catalog {catalog.path}, media root {api.media_root}, "
         f"{'edits allowed' if allow_edits else 'read-only'}; Ctrl-C to stop)")
    echo(f"API token for POST from scripts: {app.token}")
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
