"""Which ``terraform`` to run and the environment it runs in (the shared plugin cache)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from preprocessor.errors import InputError

INSTALL_HINT = (
    "install Terraform (https://developer.hashicorp.com/terraform/install), "
    "or name the binary with --terraform PATH or the TERRAFORM environment variable"
)

# `plugin_cache_dir = "..."` in a Terraform CLI config file (HCL attribute at top level).
_CACHE_SETTING = re.compile(r"^\s*plugin_cache_dir\s*=", re.MULTILINE)


def find_terraform(explicit: str | None, environ: Mapping[str, str]) -> str:
    """The terraform binary: ``--terraform``, else ``$TERRAFORM``, else ``terraform`` on ``$PATH``.

    A value with a path separator is a file that must exist and be executable; a bare name
    is looked up on the ``PATH`` of ``environ``. Raises :class:`InputError` (exit 2) otherwise.
    """
    if explicit:
        choice, origin = explicit, "--terraform"
    elif environ.get("TERRAFORM"):
        choice, origin = environ["TERRAFORM"], "the TERRAFORM environment variable"
    else:
        choice, origin = "terraform", ""
    if os.sep in choice or (os.altsep is not None and os.altsep in choice):
        path = Path(choice).expanduser()
        if not path.is_file():
            raise InputError(f"terraform binary {choice} (from {origin}) does not exist", hint=INSTALL_HINT)
        if not os.access(path, os.X_OK):
            raise InputError(f"terraform binary {choice} (from {origin}) is not executable", hint=f"chmod +x {choice}")
        return str(path.resolve())
    found = shutil.which(choice, path=environ.get("PATH", ""))
    if found is None:
        where = f" (from {origin})" if origin else ""
        raise InputError(f"{choice}{where} was not found on PATH", hint=INSTALL_HINT)
    return found


def default_plugin_cache(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/deploypkg/terraform-plugins`` (``~/.cache`` when unset)."""
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "deploypkg" / "terraform-plugins"


def _cli_config_sets_cache(environ: Mapping[str, str]) -> bool:
    configured = environ.get("TF_CLI_CONFIG_FILE")
    candidate = Path(configured) if configured else Path(environ.get("HOME") or Path.home()) / ".terraformrc"
    try:
        return bool(_CACHE_SETTING.search(candidate.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def terraform_environment(environ: Mapping[str, str]) -> tuple[dict[str, str], Path | None]:
    """The child environment and the plugin cache directory it uses.

    A ``TF_PLUGIN_CACHE_DIR`` the user set (or a ``plugin_cache_dir`` in their CLI config)
    is respected; otherwise deploypkg's own cache directory is used. Regions share it, so a
    provider is downloaded once for all of them. The directory is created: Terraform ignores
    a cache directory that does not exist.
    """
    env = dict(environ)
    if env.get("TF_PLUGIN_CACHE_DIR"):
        cache: Path | None = Path(env["TF_PLUGIN_CACHE_DIR"]).expanduser()
    elif _cli_config_sets_cache(env):
        cache = None
    else:
        cache = default_plugin_cache(env)
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    if cache is not None:
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the Terraform plugin cache directory {cache}: {exc.strerror}",
                hint="set TF_PLUGIN_CACHE_DIR to a writable directory",
            ) from None
    return env, cache
