"""boto3 sessions that share botocore's parsed service models.

A new boto3 session parses botocore's JSON data (the S3 service model, its endpoint rule set,
the partitions) again on its first client: about 60 ms on a quiet machine, paid by every store
opened. The data are files shipped with botocore, the same for every session of the process, so
one loader (which caches what it parsed) is shared. Credentials, profiles and configuration stay
per session: they come from the environment, which may change between sessions.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

_lock = threading.Lock()
_loaders: dict[str | None, Any] = {}
"""``$AWS_DATA_PATH`` (extra model directories) → the loader for it."""


def new_session(profile: str | None = None) -> boto3.session.Session:
    """A fresh boto3 session (its own credential chain and profile) on the shared data loader."""
    import boto3
    import botocore.session

    core = botocore.session.Session()
    loader = _loader(core)
    core.register_component("data_loader", loader)
    session = boto3.session.Session(profile_name=profile, botocore_session=core)
    with _lock:  # every boto3 session appends its own data directory to the loader's path
        paths = loader.search_paths
        paths[:] = list(dict.fromkeys(paths))
    return session


def _loader(core: Any) -> Any:
    search_path = os.environ.get("AWS_DATA_PATH")
    with _lock:
        loader = _loaders.get(search_path)
        if loader is None:
            loader = core.get_component("data_loader")
            _loaders[search_path] = loader
        return loader
