"""moto's server, with S3's documented atomicity for writes to one key.

S3 evaluates ``If-Match`` / ``If-None-Match`` and performs the write as one atomic step: of two
conditional writers to one key, exactly one wins. moto's server checks the condition and then
writes without a lock, so under a race two writers can both be told they won, and a test of
deploypkg's conflict handling would fail by chance. This launcher runs moto's own WSGI
application unchanged, behind a middleware that lets only one write (PUT, POST, DELETE) to a given
bucket and key run at a time; reads and writes to other keys still run concurrently. It changes no
answer moto gives, only the interleaving, to one that real S3 also guarantees.

Usage: ``python tests/atomic_moto_server.py HOST PORT``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

_WRITES = frozenset({"PUT", "POST", "DELETE"})
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneWriterPerKey:
    """WSGI middleware: writes to one (host, path) are serialized; the answer is fully produced
    inside the lock, so the condition check and the write happen as one step."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}

    def _lock_for(self, environ: dict[str, Any]) -> threading.Lock:
        key = (str(environ.get("HTTP_HOST", "")), str(environ.get("PATH_INFO", "")))
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in _WRITES:
            return self._app(environ, start_response)
        with self._lock_for(environ):
            return list(self._app(environ, start_response))


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneWriterPerKey(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
