"""The project config, ``deploypkg.yaml``, found upward from the working directory.

```yaml
provider: alicloud
catalog: file://./catalog          # or s3://bucket/prefix
regions: [cn-hangzhou, cn-beijing]
account: "1234567890"              # optional: whose access rules render applies by default
associations:
  m-bp1g7004ksh0oeuc1234: web-image        # literal image ID -> newest published version
  ami-0123456789abcdef0: web-image@1.2.0   # pinned version
  app-bundle: app-bundle#prod              # placeholder name -> channel
resource_types:                     # image-bearing properties added without code
  terraform_data: [input]
rules:                              # rule ID -> error | warning | info | off
  DPK103: off
```

Associations from a Compute Nest ``.computenest/config.yaml`` are merged in by
:mod:`preprocessor.computenest`; entries here win.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import yaml

from preprocessor.errors import ConfigError, InputError
from preprocessor.names import PackageSpec, check, parse_package_spec
from preprocessor.paths import display_path
from preprocessor.rules import RULES, Severity
from preprocessor.templates.source import read_regular_file

CONFIG_NAMES = ("deploypkg.yaml", "deploypkg.yml")
MAX_CONFIG_BYTES = 4 * 1024 * 1024


class Association(NamedTuple):
    key: str
    """The literal image ID or the placeholder name, as templates write it."""
    spec: PackageSpec
    source: str
    """The config file it comes from."""
    line: int
    column: int
    namespace: str | None = None
    """The Compute Nest relation section it comes from (its keys are a namespace of their own);
    ``None`` for ``deploypkg.yaml``, whose keys serve image literals and placeholders alike."""


@dataclass
class ProjectConfig:
    path: Path | None = None
    provider: str | None = None
    catalog: str | None = None
    regions: tuple[str, ...] = ()
    account: str | None = None
    associations: dict[str, Association] = field(default_factory=dict)
    resource_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    computenest_config: Path | None = None
    """``computenest: config:``: the Compute Nest config to read instead of the nearest
    ``.computenest/config.yaml`` (relative to this file's directory)."""
    computenest_artifacts: dict[str, Association] = field(default_factory=dict)
    """``computenest: artifacts:``: Compute Nest artifact ID, artifact key or ArtifactName → package."""
    rule_severity: dict[str, Severity | None] = field(default_factory=dict)
    """Rule ID → overridden severity; ``None`` turns the rule off."""
    text: str = field(default="", repr=False, compare=False)
    """The config file's text as read (its ``# deploypkg: ignore=`` comments apply to DPK202)."""

    @property
    def root(self) -> Path:
        """The directory relative paths in the config are resolved from."""
        return self.path.parent if self.path else Path.cwd()

    def resolve_catalog_url(self) -> str | None:
        """The catalog URL with a relative ``file://`` path made absolute from the config's directory."""
        if self.catalog and self.catalog.startswith("file://"):
            raw = self.catalog[len("file://") :]
            if not os.path.isabs(raw):
                return "file://" + os.path.realpath(self.root / raw)
        return self.catalog


def find_config(starts: Sequence[Path] = ()) -> Path | None:
    """The nearest ``deploypkg.yaml`` upward from the given paths (their directories), then
    upward from the working directory. Symbolic links are followed as far as they go (a link
    loop is left as it is, never an exception); a config name that is not a directory counts
    as found even when it cannot be read (a pipe, a dangling link), so reading it reports it
    instead of a config further up being used in its place."""
    for start in (*starts, Path.cwd()):
        here = Path(os.path.realpath(start))
        found = _config_upward(here if here.is_dir() else here.parent)
        if found is not None:
            return found
    return None


def is_config_file(candidate: Path) -> bool:
    """Whether a config name is there as anything but a directory (lexists: a dangling link too)."""
    return os.path.lexists(candidate) and not candidate.is_dir()


def config_for(path: Path) -> Path | None:
    """:func:`find_config` for one file or directory, cached per directory (and working directory)."""
    directory = Path(os.path.realpath(path))
    if not directory.is_dir():
        directory = directory.parent
    return _config_for_directory(directory, Path.cwd())


def config_in(directory: Path, cwd: Path) -> Path | None:
    """:func:`config_for` of a directory already resolved (absolute, links followed)."""
    return _config_for_directory(directory, cwd)


@functools.lru_cache(maxsize=256)
def _config_for_directory(directory: Path, cwd: Path) -> Path | None:
    return find_config([directory])


@functools.lru_cache(maxsize=4096)
def _config_upward(directory: Path) -> Path | None:
    """The nearest config in ``directory`` (real, a directory) or above it; each directory's
    answer is kept, so a scan of many directories under one root looks at every ancestor once."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if is_config_file(candidate):
            return candidate
    parent = directory.parent
    return _config_upward(parent) if parent != directory else None


def load_config(explicit: Path | None = None, starts: Sequence[Path] = ()) -> ProjectConfig:
    """Load ``--config`` if given, else the nearest ``deploypkg.yaml`` (see :func:`find_config`),
    else defaults."""
    path = explicit if explicit is not None else find_config(starts)
    if path is None:
        return ProjectConfig()
    return parse_config(path)


def read_config_text(path: Path, what: str = "config") -> str:
    """The text of a config file (``utf-8-sig``). Only a regular file of at most
    :data:`MAX_CONFIG_BYTES` is read: a pipe, a device, a link loop, a directory or a file too
    large is refused with DPK010 naming it, as a template would be (never read forever)."""
    data = read_regular_file(path, display_path(path), limit=MAX_CONFIG_BYTES, what=what, rule="DPK010")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            f"the {what} is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            file=display_path(path),
            line=line,
            column=column,
            hint="save the file as UTF-8",
            rule="DPK010",
        ) from None


def compose_config(text: str, path: Path, what: str = "config") -> yaml.Node | None:
    """The YAML node tree of a config file's text; any YAML error is a DPK010 naming the file
    and, where the parser gives one, the line and column."""
    try:
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            f"{what} is not valid YAML: {exc.problem}",
            file=display_path(path),
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            rule="DPK010",
        ) from None
    except yaml.reader.ReaderError as exc:
        # The C reader reports a byte offset, the Python one a character offset: find the
        # character itself so the line and column are right either way.
        found = yaml.reader.Reader.NON_PRINTABLE.search(text)
        offset = found.start() if found is not None else 0
        line = text.count("\n", 0, offset) + 1
        raise ConfigError(
            f"{what} is not valid YAML: {exc.reason}",
            file=display_path(path),
            line=line,
            column=offset - (text.rfind("\n", 0, offset) + 1) + 1,
            hint="remove the control character (write it as an escape in a double-quoted string)",
            rule="DPK010",
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} is not valid YAML: {exc}", file=display_path(path), rule="DPK010") from None


def _read_yaml_node(path: Path) -> tuple[str, yaml.Node | None]:
    text = read_config_text(path)
    return text, compose_config(text, path)


def config_error_at(path: Path, node: yaml.Node, message: str, hint: str | None = None) -> ConfigError:
    """A DPK010 error at ``node``'s position in the config file ``path``."""
    return ConfigError(
        message,
        file=display_path(path),
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
        hint=hint,
        rule="DPK010",
    )


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise config_error_at(path, node, f"{what} must be a string")
    return str(node.value)


def _string_list(path: Path, node: yaml.Node, what: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        return (str(node.value),)
    if not isinstance(node, yaml.SequenceNode):
        raise config_error_at(path, node, f"{what} must be a list of strings")
    return tuple(_scalar(path, item, what) for item in node.value)


def _mapping(path: Path, node: yaml.Node, what: str) -> Iterable[tuple[yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return ()
    if not isinstance(node, yaml.MappingNode):
        raise config_error_at(path, node, f"{what} must be a mapping")
    return node.value  # type: ignore[no-any-return]


def parse_config(path: Path) -> ProjectConfig:
    text, root = _read_yaml_node(path)
    config = ProjectConfig(path=path, text=text)
    if root is None:
        return config
    for key_node, value in _mapping(path, root, "the config"):
        key = _scalar(path, key_node, "a config key")
        if key == "provider":
            config.provider = _scalar(path, value, "provider")
            from providers import all_providers

            if config.provider not in all_providers():
                raise config_error_at(
                    path,
                    value,
                    f"unknown provider {config.provider!r}",
                    f"use one of: {', '.join(sorted(all_providers()))}",
                )
        elif key == "catalog":
            config.catalog = _scalar(path, value, "catalog")
        elif key == "account":
            config.account = _checked(path, value, "account", _scalar(path, value, "account"))
        elif key == "regions":
            config.regions = tuple(
                _checked(path, value, "region", region) for region in _string_list(path, value, "regions")
            )
        elif key == "associations":
            config.associations.update(_associations(path, value, "associations"))
        elif key == "computenest":
            _computenest_section(path, value, config)
        elif key == "resource_types":
            for type_node, props in _mapping(path, value, "resource_types"):
                resource_type = _scalar(path, type_node, "a resource type")
                config.resource_types[resource_type] = _string_list(path, props, f"properties of {resource_type}")
        elif key == "rules":
            for rule_node, level_node in _mapping(path, value, "rules"):
                rule_id = _scalar(path, rule_node, "a rule ID")
                if rule_id not in RULES:
                    raise config_error_at(
                        path, rule_node, f"unknown rule {rule_id!r}", "rule IDs are listed in docs/rules.md"
                    )
                level = _scalar(path, level_node, f"the level of {rule_id}").lower()
                if level in ("off", "false", "none"):
                    config.rule_severity[rule_id] = None
                elif level in {s.value for s in Severity}:
                    config.rule_severity[rule_id] = Severity(level)
                else:
                    raise config_error_at(
                        path, level_node, f"unknown level {level!r} for {rule_id}", "use error, warning, info or off"
                    )
        else:
            raise config_error_at(
                path,
                key_node,
                f"unknown config key {key!r}",
                "known keys: provider, catalog, regions, account, associations, computenest, resource_types, rules",
            )
    return config


def _associations(path: Path, node: yaml.Node, what: str) -> dict[str, Association]:
    found: dict[str, Association] = {}
    for assoc_key, assoc_value in _mapping(path, node, what):
        name = _scalar(path, assoc_key, f"a key of {what}")
        target = _scalar(path, assoc_value, f"the package of {name}")
        try:
            spec = parse_package_spec(target)
        except InputError as exc:
            raise config_error_at(path, assoc_value, exc.message, exc.hint) from None
        found[name] = Association(name, spec, str(path), assoc_key.start_mark.line + 1, assoc_key.start_mark.column + 1)
    return found


def _computenest_section(path: Path, node: yaml.Node, config: ProjectConfig) -> None:
    """``computenest: {config: FILE, artifacts: {ARTIFACT: PACKAGE}}``."""
    for key_node, value in _mapping(path, node, "computenest"):
        key = _scalar(path, key_node, "a key of computenest")
        if key == "config":
            config.computenest_config = path.parent / _scalar(path, value, "computenest: config")
        elif key == "artifacts":
            config.computenest_artifacts.update(_associations(path, value, "computenest: artifacts"))
        else:
            raise config_error_at(
                path, key_node, f"unknown key {key!r} under computenest", "known keys: config, artifacts"
            )


def _checked(path: Path, node: yaml.Node, kind: str, value: str) -> str:
    try:
        return check(kind, value)
    except InputError as exc:
        raise config_error_at(path, node, exc.message, exc.hint) from None


def clear_cache() -> None:
    """Forget where configs were found (for long-running callers whose trees change)."""
    _config_for_directory.cache_clear()
    _config_upward.cache_clear()
