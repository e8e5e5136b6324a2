"""python-hcl2's parser, cached in the user's cache directory when python-hcl2's own directory
cannot hold the cache (preprocessor/templates/hcl_parser.py): the same trees either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hcl2
import hcl2.parser
import pytest

from preprocessor.templates import hcl_parser

SAMPLE = """\
resource "aws_instance" "web" {
  ami   = "ami-0123456789abcdef0"
  count = var.enabled ? 1 : 0
  tags  = { Name = "web-${var.env}" }
  user_data = <<EOT
echo hello
EOT
}
"""


@pytest.fixture
def read_only_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """python-hcl2's cache file in a directory that does not exist (so cannot be written), and
    the user's cache directory under tmp_path."""
    monkeypatch.setattr(hcl2.parser, "PARSER_FILE", tmp_path / "absent" / "site-packages" / ".lark_cache.bin")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    hcl_parser.parser.cache_clear()
    yield tmp_path / "cache"
    hcl_parser.parser.cache_clear()


def test_the_bundled_cache_is_used_where_it_can_be() -> None:
    hcl_parser.parser.cache_clear()
    assert hcl_parser.parser() is hcl2.parser.parser()


def test_an_unwritable_install_caches_in_the_users_cache_directory(read_only_install: Path) -> None:
    tree = hcl_parser.parse_tree(SAMPLE)
    assert tree == hcl2.parses_to_tree(SAMPLE)
    assert hcl_parser.parser() is not hcl2.parser.parser()
    cached = hcl_parser.user_cache_file()
    assert cached.parent.parent == read_only_install and cached.stat().st_size > 0
    hcl_parser.parser.cache_clear()  # a new process: loaded from that cache, the same trees
    assert hcl_parser.parse_tree(SAMPLE) == tree
    positions = [(t.data, t.meta.start_pos, t.meta.end_pos) for t in tree.iter_subtrees() if not t.meta.empty]
    again = hcl_parser.parse_tree(SAMPLE)
    assert positions == [(t.data, t.meta.start_pos, t.meta.end_pos) for t in again.iter_subtrees() if not t.meta.empty]


def test_a_stale_user_cache_is_rebuilt_not_used(read_only_install: Path) -> None:
    cached = hcl_parser.user_cache_file()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"0" * 64 + b"\n")
    assert hcl_parser.parse_tree(SAMPLE) == hcl2.parses_to_tree(SAMPLE)
    assert cached.read_bytes() != b"0" * 64 + b"\n"
