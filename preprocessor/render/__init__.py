"""Render: each region's copy of the templates, by splicing the spans the loaders recorded.

``render_to_directory(paths, regions, out_dir, options)`` is the one entry point (used by
``deploypkg render`` and the ``plan`` wrapper); see :mod:`preprocessor.render.engine`.
"""

from __future__ import annotations

from preprocessor.render.engine import (
    RenderOptions,
    RenderReport,
    ValidationRefused,
    render_to_directory,
)
from preprocessor.render.presign import DEFAULT_EXPIRES, MAX_EXPIRES, parse_expires
from preprocessor.render.resolve import Artifact
from preprocessor.render.sources import input_root

__all__ = [
    "DEFAULT_EXPIRES",
    "MAX_EXPIRES",
    "Artifact",
    "RenderOptions",
    "RenderReport",
    "ValidationRefused",
    "input_root",
    "parse_expires",
    "render_to_directory",
]
