"""Child output copied line by line, each line prefixed with its region.

Several regions write at once when plans run in parallel; one lock shared by stdout and
stderr makes every line reach the terminal whole (never two regions' text in one line).
"""

from __future__ import annotations

import threading
from typing import IO


class PrefixedOutput:
    def __init__(self, stdout: IO[str], stderr: IO[str]) -> None:
        self._streams = {"stdout": stdout, "stderr": stderr}
        self._lock = threading.Lock()

    def line(self, prefix: str, text: str, stream: str = "stdout") -> None:
        """Write ``[prefix] text`` as one line (``text`` without its line ending)."""
        target = self._streams[stream]
        with self._lock:
            target.write(f"[{prefix}] {text}\n")
            target.flush()

    def message(self, text: str) -> None:
        """deploypkg's own line on stderr (``deploypkg: …``), never inside a child's line."""
        with self._lock:
            self._streams["stderr"].write(f"deploypkg: {text}\n")
            self._streams["stderr"].flush()

    def pump(self, prefix: str, pipe: IO[bytes], stream: str) -> None:
        """Copy ``pipe`` until EOF, one prefixed line per child line (undecodable bytes replaced)."""
        for raw in iter(pipe.readline, b""):
            self.line(prefix, raw.decode("utf-8", errors="replace").rstrip("\r\n"), stream)
        pipe.close()
