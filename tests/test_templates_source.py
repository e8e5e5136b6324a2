"""Finding and reading template files: discovery order and skips, symlink loops, and every
reading failure as a DPK002 error naming the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from preprocessor.errors import InputError
from preprocessor.templates import discover, iter_files, load_template, source
from providers import resource_table

TABLE = resource_table()
ROS = "ROSTemplateFormatVersion: '2015-09-01'\n"


def _tree(root: Path) -> None:
    for name, text in {
        "b.yaml": ROS,
        "a.tf": "",
        "notes.md": "x",
        "sub/c.tf.json": "{}",
        "sub/d.template": "{}",
        "sub/e.json": "{}",
        "sub/f.yml": ROS,
        "sub/g.txt": "x",
        ".git/h.yaml": ROS,
        ".terraform/modules/i.tf": "",
        "node_modules/pkg/j.json": "{}",
        "z/.terraform.lock.hcl": "",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_discover_sorted_with_skips(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert found == ["a.tf", "b.yaml", "sub/c.tf.json", "sub/d.template", "sub/e.json", "sub/f.yml"]


def test_iter_files_lists_every_file_with_the_same_skips(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert found == [
        "a.tf",
        "b.yaml",
        "notes.md",
        "sub/c.tf.json",
        "sub/d.template",
        "sub/e.json",
        "sub/f.yml",
        "sub/g.txt",
        "z/.terraform.lock.hcl",
    ]


def test_files_are_taken_as_given_when_they_have_a_template_name(tmp_path: Path) -> None:
    _tree(tmp_path)
    given = [tmp_path / "notes.md", tmp_path / "b.yaml"]
    assert list(discover(given)) == [tmp_path / "b.yaml"]  # README.md named explicitly is no template
    assert list(iter_files(given)) == given  # render still copies it along


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or directory") as caught:
        list(discover([tmp_path / "nope"]))
    assert caught.value.rule == "DPK002"


def test_symlink_loops_end(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "t.yaml").write_text(ROS)
    (tmp_path / "real" / "loop").symlink_to(tmp_path)
    (tmp_path / "real" / "self.yaml").symlink_to(tmp_path / "real" / "self.yaml")
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert found == ["real/self.yaml", "real/t.yaml"]
    with pytest.raises(InputError) as caught:
        load_template(tmp_path / "real" / "self.yaml", TABLE, "real/self.yaml")
    assert caught.value.rule == "DPK002" and caught.value.file == "real/self.yaml"
    assert "symbolic links" in caught.value.message


def test_a_file_that_vanishes_mid_scan(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(ROS)
    scan = discover([tmp_path])
    first = next(scan)
    (tmp_path / "b.yaml").unlink()
    second = next(scan)
    assert load_template(first, TABLE) is not None
    with pytest.raises(InputError, match="does not exist") as caught:
        load_template(second, TABLE, "b.yaml")
    assert caught.value.file == "b.yaml" and caught.value.rule == "DPK002"


def test_a_directory_that_vanishes_mid_scan_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ROS)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(ROS)
    scan = discover([tmp_path])
    assert next(scan).name == "a.yaml"
    (tmp_path / "sub" / "b.yaml").unlink()
    (tmp_path / "sub").rmdir()
    assert list(scan) == []


def _load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_template(path, TABLE, path.name)
    error = caught.value
    assert error.file == path.name and error.rule == "DPK002" and error.exit_code == 2
    return error


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"ROSTemplateFormatVersion: '2015-09-01'\nDescription: caf\xe9\n")
    error = _load_error(path)
    assert "not UTF-8" in error.message and "line 2, column 17" in error.message
    assert (error.line, error.column) == (2, 17)


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "blob.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    error = _load_error(path)
    assert "binary" in error.message and (error.line, error.column) == (3, 1)


def test_nul_inside_a_text_file_is_located(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes("ROSTemplateFormatVersion: '2015-09-01'\nDescription: é\x00\n".encode())
    error = _load_error(path)
    assert (error.line, error.column) == (2, 15) and "line 2, column 15" in error.message


def test_dangling_symlink_names_its_target(tmp_path: Path) -> None:
    (tmp_path / "gone.json").symlink_to("missing.json")
    assert "dangling symbolic link: its target missing.json" in _load_error(tmp_path / "gone.json").message


def test_directory_named_like_a_template(tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.mkdir()
    assert "directory" in _load_error(path).message


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    assert "not a regular file" in _load_error(path).message


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(ROS)

    def refuse(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    # The test suite may run as root, which reads any file; make open() refuse as it would for a user.
    monkeypatch.setattr(source, "open", refuse, raising=False)
    assert "permission denied" in _load_error(path).message


def test_too_large_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"a": "' + "x" * 2000 + '"}')
    monkeypatch.setattr(source, "MAX_TEMPLATE_BYTES", 1024)
    assert "larger than" in _load_error(path).message


def test_bom_and_crlf_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    data = b"\xef\xbb\xbfROSTemplateFormatVersion: '2015-09-01'\r\nResources:\r\n"
    data += b"  A:\r\n    Type: ALIYUN::ECS::Instance\r\n"
    data += b"    Properties:\r\n      ImageId: m-bp1g7004ksh0oeuc1234\r\n"
    path.write_bytes(data)
    template = load_template(path, TABLE)
    assert template is not None and template.bom
    assert not template.text.startswith("\ufeff") and "\r\n" in template.text
    [ref] = template.image_refs
    assert (ref.span.line, ref.span.column, ref.span.end_column) == (6, 16, 38)
    assert template.encoded() == data


@pytest.mark.parametrize(("limit", "refused"), [(4096, False), (1024, True)])
def test_a_file_that_grew_after_stat_is_read_whole_up_to_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int, refused: bool
) -> None:
    path = tmp_path / "grown.json"
    text = '{"a": "' + "x" * 2000 + '"}'
    path.write_text(text)
    real_stat = os.stat

    def stale_stat(target: object, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(target, *args, **kwargs)  # type: ignore[arg-type]
        fields = list(info)
        fields[stat.ST_SIZE] = 10  # as it was when stat looked
        return os.stat_result(fields)

    monkeypatch.setattr(os, "stat", stale_stat)
    monkeypatch.setattr(source, "MAX_TEMPLATE_BYTES", limit)
    if refused:
        assert "larger than" in _load_error(path).message
    else:
        assert source.read_source(path, "grown.json") == (text, False)
