"""Child output copied line by line, each line prefixed with its region.

Several regions write at once when plans run in parallel; one lock shared by stdout and
stderr makes every line reach the terminal whole (never two regions' text in one line).
A stream that stops accepting output (``deploypkg plan | head``) is dropped, but the child's
pipe is still drained: a child blocked on a full pipe would never finish.
"""

from __future__ import annotations

import threading
from typing import IO


class PrefixedOutput:
    def __init__(self, stdout: IO[str], stderr: IO[str]) -> None:
        self._streams = {"stdout": stdout, "stderr": stderr}
        self._closed: set[str] = set()
        self._lock = threading.Lock()

    def _write(self, stream: str, text: str) -> None:
        with self._lock:
            if stream in self._closed:
                return
            target = self._streams[stream]
            try:
                target.write(text)
                target.flush()
            except (BrokenPipeError, ValueError):  # reader went away / stream closed
                self._closed.add(stream)

    def line(self, prefix: str, text: str, stream: str = "stdout") -> None:
        """Write ``[prefix] text`` as one line (``text`` without its line ending)."""
        self._write(stream, f"[{prefix}] {text}\n")

    def message(self, text: str) -> None:
        """deploypkg's own line on stderr (``deploypkg: …``), never inside a child's line."""
        self._write("stderr", f"deploypkg: {text}\n")

    def pump(self, prefix: str, pipe: IO[bytes], stream: str) -> None:
        """Copy ``pipe`` until EOF, one prefixed line per child line (undecodable bytes replaced)."""
        with pipe:
            for raw in iter(pipe.readline, b""):
                self.line(prefix, raw.decode("utf-8", errors="replace").rstrip("\r\n"), stream)
