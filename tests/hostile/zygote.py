"""A process that imports deploypkg once, then forks one child per case to run the real CLI.

The corpus has hundreds of cases; starting Python and importing the CLI for each costs more than
most cases themselves. Each child is still a separate process running ``preprocessor.cli.main``
exactly as ``python -m preprocessor`` does, in the case's directory, with its own address-space
limit, its output in files and a wall-clock budget enforced by the zygote (SIGKILL when over).

Protocol on stdin/stdout, one JSON object per line:
request ``{"args": [...], "cwd": DIR, "budget": SECONDS, "memory": BYTES, "out": FILE, "err": FILE}``,
answer ``{"exit": CODE, "seconds": S, "timed_out": BOOL}`` (``exit`` is ``-SIGNAL`` when killed).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time


def _preload() -> None:
    import preprocessor.cli
    import preprocessor.cli.refs_cmd
    import preprocessor.cli.render_cmd
    import preprocessor.cli.validate_cmd
    import preprocessor.render
    import preprocessor.templates
    import preprocessor.validate.scan  # noqa: F401


def _child(request: dict[str, object]) -> None:
    """In the forked child: never returns."""
    code = 3
    try:
        os.chdir(str(request["cwd"]))
        memory = int(str(request["memory"]))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        out = os.open(str(request["out"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(str(request["err"]), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = ["deploypkg", *map(str, request["args"])]  # type: ignore[call-overload]
        from preprocessor.cli import main

        try:
            main(sys.argv[1:])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException as error:  # reported like an uncaught exception would be, then exit 3
        import traceback

        traceback.print_exception(error)
        code = 3
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _run(request: dict[str, object]) -> dict[str, object]:
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(request)
    deadline = started + float(str(request["budget"]))
    timed_out = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            timed_out = True
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    return {"exit": os.waitstatus_to_exitcode(status), "seconds": time.monotonic() - started, "timed_out": timed_out}


def main() -> None:
    _preload()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_run(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
