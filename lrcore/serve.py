"""``lrcore serve``: a local page to explore schedules, over ``lrcore.table``.

The standard library's threading HTTP server and a static page (``lrcore/explorer``,
with uPlot vendored: no CDN, it works offline). The page asks for:

* ``/api/families``: every schedule of every framework, from the declarations, with
  its parameters (default, what is allowed) for the page's forms;
* ``/api/check?spec=``: a spec's text, brief form and drop-in line, or lrcore's error;
* ``/api/envelope?spec=&steps=&base=&lo=&hi=&width=``: the table over ``[lo, hi)`` as
  a min/max envelope of at most ``width`` columns (every entry in one column or
  another: a one-step spike is never lost), with the schedule's milestones/restarts;
* ``/api/at?spec=&steps=&base=&step=``: the exact LR at one step (the hover);
* ``/api/export?spec=&steps=&base=&format=csv|npy|json``: a download.

It binds to 127.0.0.1 unless told otherwise, parses specs with ``lrcore.parse`` (the
``ast`` module, never ``eval``), refuses schedules that hold a Python function, and
answers bad input with a 4xx and a one-line JSON error (never a traceback). Requests
are bounded: the URL's length, ``steps`` (:data:`MAX_STEPS`), ``width``, and the
socket's time.
"""

from __future__ import annotations

import io
import json
import math
import threading
import urllib.parse
from collections import OrderedDict
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

MAX_STEPS = 10_000_000
MAX_WIDTH = 4096
MAX_URL = 16 * 1024
#: tables kept for zooming and hovering (bytes, all together)
CACHE_BYTES = 256 * 2**20
STATIC = Path(__file__).parent / "explorer"
#: the files the page is made of (nothing else under STATIC is served)
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/vendor/uPlot.iife.min.js": ("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    "/vendor/uPlot.min.css": ("vendor/uPlot.min.css", "text/css; charset=utf-8"),
}


class BadRequest(Exception):
    """A request the explorer refuses: its message goes to the page, with a 400."""


class Tables:
    """The tables the page is looking at, least recently used dropped first."""

    def __init__(self, limit: int = CACHE_BYTES):
        self.limit = limit
        self._held: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, spec, steps: int, base: float) -> np.ndarray:
        from . import table

        key = (str(spec), steps, base)
        with self._lock:
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key]
        values = table(spec, steps, base)
        with self._lock:
            self._held[key] = values
            while sum(v.nbytes for v in self._held.values()) > self.limit and len(self._held) > 1:
                self._held.popitem(last=False)
        return values


TABLES = Tables()


def _spec(text: str | None):
    """The spec of ``text``, or :class:`BadRequest` with lrcore's own message."""
    from . import parse

    if not text or not text.strip():
        raise BadRequest("spec: give a schedule, e.g. cosine_annealing(T_max=1000)")
    try:
        spec = parse(text)
    except (ValueError, TypeError) as exc:
        raise BadRequest(str(exc)) from None
    return _spec_checked(spec)


def _spec_checked(spec):
    """``spec``, or :class:`BadRequest` where it (or a part of it) holds a function."""
    from .spec import Spec

    def walk(value):
        if isinstance(value, Spec):
            fam = getattr(type(value), "family", None)
            if fam is not None and fam.user_function:
                raise BadRequest(
                    f"{value.name}: the explorer takes no schedule holding a Python "
                    "function (it runs no code it receives)"
                )
            for name in getattr(value, "__dataclass_fields__", {}):
                walk(getattr(value, name))
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)

    walk(spec)
    return spec


def _integer(query, name, default=None, *, low=0, high=None) -> int:
    raw = query.get(name, default)
    if raw is None:
        raise BadRequest(f"{name}: missing")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a whole number, got {name}={raw!r}") from None
    if value < low or (high is not None and value > high):
        top = f" and <= {high:,}" if high is not None else ""
        raise BadRequest(f"{name} must be >= {low:,}{top}, got {name}={value:,}")
    return value


def _real(query, name, default) -> float:
    raw = query.get(name, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be a number, got {name}={raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise BadRequest(f"{name} must be a finite number >= 0, got {name}={raw!r}")
    return value


def _values(query):
    """(spec, steps, base, the table) of a request."""
    spec = _spec(query.get("spec"))
    steps = _integer(query, "steps", "1000", low=1, high=MAX_STEPS)
    base = _real(query, "base", "1.0")
    try:
        values = TABLES.get(spec, steps, base)
    except (ValueError, TypeError) as exc:
        raise BadRequest(str(exc)) from None
    return spec, steps, base, values


def families() -> dict:
    """Every schedule of every framework with its parameters, for the page's forms."""
    import dataclasses

    from . import _docs

    out = []
    for fw, classes in _docs.frameworks().items():
        schedules = []
        for cls in classes:
            fam = getattr(cls, "family", None)
            if fam is not None and fam.user_function:
                continue  # (no Python functions from the page)
            rules = _docs.allowed(cls)
            params = []
            for f in dataclasses.fields(cls):
                if not f.init:
                    continue
                default = _docs._default(f)
                params.append(
                    {
                        "name": f.name,
                        "default": None if default == "required" else default.strip("`"),
                        "allowed": rules.get(f.name, ""),
                    }
                )
            doc = _docs._doc(cls).split("\n\n")[0]
            schedules.append({"name": cls.name, "doc": doc, "params": params})
        out.append({"name": fw, "title": _docs.TITLES.get(fw, fw), "schedules": schedules})
    return {"frameworks": out, "max_steps": MAX_STEPS}


def dropin_line(spec) -> str:
    """The lrsched line that runs ``spec`` on an optimizer: torch's class where the
    spec is one of torch's, else ``TableLR``."""
    from .export import NotExact, torch_arguments

    try:
        name, args = torch_arguments(spec)
    except NotExact:
        return f"sched = lrsched.TableLR(optimizer, {str(spec)!r})"
    return f"sched = lrsched.{name.rsplit('.', 1)[-1]}(optimizer{', ' if args else ''}{args})"


def check(query) -> dict:
    spec = _spec(query.get("spec"))
    return {
        "text": str(spec),
        "brief": spec.brief(),
        "absolute": spec.absolute,
        "lrsched": dropin_line(spec),
    }


def envelope(query) -> dict:
    """The table over ``[lo, hi)`` in at most ``width`` columns: each column's min and
    max over the steps it covers (all of them: a spike of one step shows)."""
    from .plotting import events

    spec, steps, _, values = _values(query)
    lo = _integer(query, "lo", "0", low=0, high=steps - 1)
    hi = _integer(query, "hi", str(steps), low=lo + 1, high=steps)
    width = _integer(query, "width", "1000", low=1, high=MAX_WIDTH)
    part = values[lo:hi]
    if hi - lo <= width:
        x = np.arange(lo, hi)
        low = high = part
    else:
        edges = np.linspace(0, hi - lo, width + 1).astype(np.int64)[:-1]
        edges = np.unique(edges)
        x = lo + edges
        low = np.minimum.reduceat(part, edges)
        high = np.maximum.reduceat(part, edges)
    marks = [int(e) for e in events(spec, steps) if lo <= e < hi]
    return {
        "x": x.tolist(),
        "min": [_plain(v) for v in low.tolist()],
        "max": [_plain(v) for v in high.tolist()],
        "events": marks,
        "brief": spec.brief(),
    }


def _plain(v: float):
    return v if math.isfinite(v) else None


def at(query) -> dict:
    _, steps, _, values = _values(query)
    step = _integer(query, "step", None, low=0, high=steps - 1)
    value = float(values[step])
    return {"step": step, "lr": _plain(value), "repr": repr(value)}


def export(query) -> tuple[bytes, str, str]:
    """(body, content type, file name) of a download."""
    spec, steps, base, values = _values(query)
    fmt = query.get("format", "csv")
    name = spec.name
    if fmt == "csv":
        from .csv_text import write_csv

        text = io.StringIO()
        write_csv(text, values, 0)
        return text.getvalue().encode(), "text/csv", f"{name}.csv"
    if fmt == "npy":
        buf = io.BytesIO()
        np.save(buf, values)
        return buf.getvalue(), "application/octet-stream", f"{name}.npy"
    if fmt == "json":
        body = json.dumps(
            {"spec": spec.to_dict(), "text": str(spec), "steps": steps, "base_lr": base}
        )
        return body.encode(), "application/json", f"{name}.json"
    raise BadRequest(f"format must be one of csv, npy, json, got format={fmt!r}")


API = {"/api/families": None, "/api/check": check, "/api/envelope": envelope, "/api/at": at}


class Handler(BaseHTTPRequestHandler):
    server_version = "lrcore-serve"
    timeout = 15  # seconds a client may take to send its request
    quiet = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        if not self.quiet:
            super().log_message(format, *args)

    def do_GET(self):  # noqa: N802 - the base class's name
        try:
            if len(self.path) > MAX_URL:
                raise BadRequest(f"the request is longer than {MAX_URL:,} characters")
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            if url.path in FILES:
                name, kind = FILES[url.path]
                self._send(HTTPStatus.OK, (STATIC / name).read_bytes(), kind)
            elif url.path == "/api/families":
                self._json(HTTPStatus.OK, _FAMILIES())
            elif url.path in API:
                self._json(HTTPStatus.OK, API[url.path](query))
            elif url.path == "/api/export":
                body, kind, filename = export(query)
                self._send(
                    HTTPStatus.OK,
                    body,
                    kind,
                    {"Content-Disposition": f'attachment; filename="{filename}"'},
                )
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {url.path}"})
        except BadRequest as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # noqa: BLE001 - one line, never a traceback
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"{type(exc).__name__}: {exc}"})

    def do_POST(self):  # noqa: N802
        self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the explorer answers GET only"})

    def _json(self, status, payload):
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _send(self, status, body: bytes, kind: str, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


_families_lock = threading.Lock()
_families_made: dict = {}


def _FAMILIES() -> dict:  # noqa: N802 - made once, read by every page load
    with _families_lock:
        if not _families_made:
            _families_made.update(families())
        return _families_made


def make_server(host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """The explorer's server, bound (``port=0``: any free port; ``server_address``
    says which), not yet serving: call ``serve_forever()``."""
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve(host: str = "127.0.0.1", port: int = 8765, browser: bool = True) -> None:
    """Serve the explorer until interrupted, and open it in a browser."""
    server = make_server(host, port)
    url = f"http://{server.server_address[0]}:{server.server_address[1]}/"
    print(f"lrcore explorer at {url} (Ctrl-C stops it)", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"(listening on {host}: anyone who can reach it can use it)", flush=True)
    if browser:
        import webbrowser

        threading.Timer(0.3, webbrowser.open, args=(url,)).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
