"""python-hcl2's Lark parser, loaded from a grammar cache wherever python-hcl2 is installed.

python-hcl2 keeps Lark's cache of its LALR tables beside its grammar, in its package directory.
Where that directory cannot be written (a system-wide or read-only install) and holds no cache,
every process would build the tables again: about 1.8 s instead of 0.07 s for loading them. In
that case the same parser — python-hcl2's grammar file, options and post-lexer — is cached in the
user's cache directory instead. Lark checks a cache against a hash of the grammar, the options,
its own version and Python's, so a stale one is rebuilt, never used.
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import hcl2
import hcl2.parser
from lark import Lark, Token, Tree


def user_cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deploypkg" / f"python-hcl2-{getattr(hcl2, '__version__', 'unknown')}.lark"


def _can_cache(cache: Path) -> bool:
    return cache.exists() or os.access(cache.parent, os.W_OK)


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    if _can_cache(Path(hcl2.parser.PARSER_FILE)):
        bundled: Lark = hcl2.parser.parser()
        return bundled
    from hcl2.postlexer import PostLexer

    cache = user_cache_file()
    with contextlib.suppress(OSError):  # unwritable too: Lark builds the tables each time, as python-hcl2 would
        cache.parent.mkdir(parents=True, exist_ok=True)
    return Lark.open(  # python-hcl2's own arguments (hcl2/parser.py) but the cache's place
        "hcl2.lark",
        parser="lalr",
        cache=str(cache),
        rel_to=hcl2.parser.__file__,
        propagate_positions=True,
        postlex=PostLexer(),
    )


def parse_tree(text: str) -> Tree[Token]:
    """What ``hcl2.parses_to_tree(text)`` returns: the text is parsed with a newline appended
    (python-hcl2's workaround for lark-parser/lark#237), so offsets are into ``text``."""
    tree: Tree[Token] = parser().parse(text + "\n")
    return tree
