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
from preprocessor.rules import RULES, Severity

CONFIG_NAMES = ("deploypkg.yaml", "deploypkg.yml")


class Association(NamedTuple):
    key: str
    """The literal image ID or the placeholder name, as templates write it."""
    spec: PackageSpec
    source: str
    """The config file it comes from."""
    line: int
    column: int


@dataclass
class ProjectConfig:
    path: Path | None = None
    provider: str | None = None
    catalog: str | None = None
    regions: tuple[str, ...] = ()
    account: str | None = None
    associations: dict[str, Association] = field(default_factory=dict)
    resource_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rule_severity: dict[str, Severity | None] = field(default_factory=dict)
    """Rule ID → overridden severity; ``None`` turns the rule off."""

    @property
    def root(self) -> Path:
        """The directory relative paths in the config are resolved from."""
        return self.path.parent if self.path else Path.cwd()

    def resolve_catalog_url(self) -> str | None:
        """The catalog URL with a relative ``file://`` path made absolute from the config's directory."""
        if self.catalog and self.catalog.startswith("file://"):
            raw = self.catalog[len("file://") :]
            if not os.path.isabs(raw):
                return "file://" + str((self.root / raw).resolve())
        return self.catalog


def find_config(starts: Sequence[Path] = ()) -> Path | None:
    """The nearest ``deploypkg.yaml`` upward from the given paths (their directories), then
    upward from the working directory."""
    seen: set[Path] = set()
    for start in (*starts, Path.cwd()):
        here = start.resolve()
        if not here.is_dir():
            here = here.parent
        for directory in (here, *here.parents):
            if directory in seen:
                break
            seen.add(directory)
            for name in CONFIG_NAMES:
                candidate = directory / name
                if candidate.is_file():
                    return candidate
    return None


def config_for(path: Path) -> Path | None:
    """:func:`find_config` for one file or directory, cached per directory (and working directory)."""
    directory = path.resolve()
    if not directory.is_dir():
        directory = directory.parent
    return _config_for_directory(directory, Path.cwd())


@functools.lru_cache(maxsize=256)
def _config_for_directory(directory: Path, cwd: Path) -> Path | None:
    return find_config([directory])


def load_config(explicit: Path | None = None, starts: Sequence[Path] = ()) -> ProjectConfig:
    """Load ``--config`` if given, else the nearest ``deploypkg.yaml`` (see :func:`find_config`),
    else defaults."""
    path = explicit if explicit is not None else find_config(starts)
    if path is None:
        return ProjectConfig()
    return parse_config(path)


def _read_yaml_node(path: Path) -> yaml.Node | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"config file {path} does not exist", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read config file: {exc}", file=str(path), rule="DPK010") from None
    try:
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            f"config is not valid YAML: {exc.problem}",
            file=str(path),
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            rule="DPK010",
        ) from None


def _fail(path: Path, node: yaml.Node, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(
        message,
        file=str(path),
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
        hint=hint,
        rule="DPK010",
    )


def _scalar(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise _fail(path, node, f"{what} must be a string")
    return str(node.value)


def _string_list(path: Path, node: yaml.Node, what: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        return (str(node.value),)
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(path, node, f"{what} must be a list of strings")
    return tuple(_scalar(path, item, what) for item in node.value)


def _mapping(path: Path, node: yaml.Node, what: str) -> Iterable[tuple[yaml.Node, yaml.Node]]:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return ()
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, f"{what} must be a mapping")
    return node.value  # type: ignore[no-any-return]


def parse_config(path: Path) -> ProjectConfig:
    root = _read_yaml_node(path)
    config = ProjectConfig(path=path)
    if root is None:
        return config
    for key_node, value in _mapping(path, root, "the config"):
        key = _scalar(path, key_node, "a config key")
        if key == "provider":
            config.provider = _scalar(path, value, "provider")
            from providers import all_providers

            if config.provider not in all_providers():
                raise _fail(
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
            for assoc_key, assoc_value in _mapping(path, value, "associations"):
                name = _scalar(path, assoc_key, "an association key")
                target = _scalar(path, assoc_value, f"the association of {name}")
                try:
                    spec = parse_package_spec(target)
                except InputError as exc:
                    raise _fail(path, assoc_value, exc.message, exc.hint) from None
                config.associations[name] = Association(
                    name, spec, str(path), assoc_key.start_mark.line + 1, assoc_key.start_mark.column + 1
                )
        elif key == "resource_types":
            for type_node, props in _mapping(path, value, "resource_types"):
                resource_type = _scalar(path, type_node, "a resource type")
                config.resource_types[resource_type] = _string_list(path, props, f"properties of {resource_type}")
        elif key == "rules":
            for rule_node, level_node in _mapping(path, value, "rules"):
                rule_id = _scalar(path, rule_node, "a rule ID")
                if rule_id not in RULES:
                    raise _fail(path, rule_node, f"unknown rule {rule_id!r}", "rule IDs are listed in docs/rules.md")
                level = _scalar(path, level_node, f"the level of {rule_id}").lower()
                if level in ("off", "false", "none"):
                    config.rule_severity[rule_id] = None
                elif level in {s.value for s in Severity}:
                    config.rule_severity[rule_id] = Severity(level)
                else:
                    raise _fail(
                        path, level_node, f"unknown level {level!r} for {rule_id}", "use error, warning, info or off"
                    )
        else:
            raise _fail(
                path,
                key_node,
                f"unknown config key {key!r}",
                "known keys: provider, catalog, regions, account, associations, resource_types, rules",
            )
    return config


def _checked(path: Path, node: yaml.Node, kind: str, value: str) -> str:
    try:
        return check(kind, value)
    except InputError as exc:
        raise _fail(path, node, exc.message, exc.hint) from None
