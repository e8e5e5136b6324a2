"""Security (issue #5 §5): every combination of the access rules through ``render`` (and a
subset through ``plan`` with the real terraform), and hostile names through the real CLI, with
proof that nothing is written outside ``--out`` or the catalog prefix.

The expected access outcome comes from :func:`expected_outcome`, a small oracle written from the
rules in ``preprocessor/catalog/access.py``'s docstring, never from ``access.check`` itself."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from itertools import product
from pathlib import Path
from typing import NamedTuple

import pytest
from helpers import FIXTURES, run_cli

from preprocessor.catalog import keys
from preprocessor.catalog.local import LocalStore
from preprocessor.catalog.model import (
    CatalogInfo,
    Distribution,
    DistributionStatus,
    Package,
    PackageType,
    PackageVersion,
    Service,
    Source,
    VersionStatus,
    Visibility,
)
from preprocessor.errors import PolicyError
from preprocessor.render import RenderOptions, render_to_directory

OWNER = "1234567890123456"
LISTED = "2222222222222222"
"""The account on the whitelist when the whitelist "contains the account"."""
OTHER = "3333333333333333"
"""The only account on a whitelist that does not contain the account under test."""
STRANGER = "9999999999999999"
SOURCE, ELSEWHERE = "cn-hangzhou", "cn-beijing"

VISIBILITIES = ("public", "private", "no service")
WHITELISTS = ("empty", "contains", "without")
ACCOUNTS = {"owner": OWNER, "whitelisted": LISTED, "stranger": STRANGER, "none": None}
STATUSES = ("draft, source region", "draft, elsewhere", "published", "revoked")
VERSIONS = {"published": "1.0.0", "draft": "1.1.0", "revoked": "0.9.0"}


def tree(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (directories too) with the SHA-256 of each file's bytes."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = f"link:{path.readlink()}"
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


# --- the access oracle -----------------------------------------------------------------------------


def expected_outcome(visibility: str, whitelist: str, account: str, status: str) -> str | None:
    """The rule that refuses, or None when allowed — straight from access.py's docstring:
    revoked first (DPK303); then who may use the package (DPK304 when it has a public service,
    DPK305 when private or without a service); then drafts only in their source region (DPK302)."""
    if status == "revoked":
        return "DPK303"
    owner = account == "owner"
    on_list = whitelist == "contains" and account == "whitelisted"
    if visibility == "no service":
        usable = owner
    elif visibility == "public" and whitelist == "empty":
        usable = True  # every account, and no account at all
    else:
        usable = owner or on_list
    if not usable:
        return "DPK304" if visibility == "public" else "DPK305"
    if status == "draft, elsewhere":
        return "DPK302"
    return None


class Combination(NamedTuple):
    visibility: str
    whitelist: str
    account: str
    status: str

    @property
    def package(self) -> str:
        return package_name(self.visibility, self.whitelist)

    @property
    def version(self) -> str:
        return VERSIONS[self.status.split(",")[0]]

    @property
    def region(self) -> str:
        return SOURCE if self.status == "draft, source region" else ELSEWHERE

    @property
    def expected(self) -> str | None:
        return expected_outcome(*self)


def package_name(visibility: str, whitelist: str) -> str:
    if visibility == "no service":
        return "p-noservice"
    return f"p-{visibility}-{whitelist}"


SETUPS = [(v, w) for v, w in product(VISIBILITIES, WHITELISTS) if not (v == "no service" and w != "empty")]
"""A package without a service has no whitelist: 2 × 3 + 1 = 7 package setups."""
COMBINATIONS = [Combination(v, w, a, s) for (v, w), a, s in product(SETUPS, ACCOUNTS, STATUSES)]


def image_id(package: str, version: str, region: str) -> str:
    digest = hashlib.sha256(f"{package}@{version}/{region}".encode()).hexdigest()[:20]
    return f"m-{'bp1' if region == SOURCE else '2ze'}{digest}"


def build_access_catalog(root: Path) -> None:
    """One package per (visibility, whitelist) setup, each with a published, a draft and a revoked
    version available in both regions (so DPK301 never hides the rule under test)."""
    store = LocalStore(root)
    store.write_document(keys.CATALOG, CatalogInfo("alicloud", "deploypkg-sec-{region}").to_json())
    whitelists = {"empty": (), "contains": (LISTED,), "without": (OTHER,)}
    for visibility, whitelist in SETUPS:
        name = package_name(visibility, whitelist)
        store.write_document(keys.package_key(name), Package(name, PackageType.ECS_IMAGE, owner=OWNER).to_json())
        if visibility != "no service":
            service = Service(
                name=f"s-{name}",
                visibility=Visibility(visibility),
                whitelist=whitelists[whitelist],
                packages=(name,),
                owner=OWNER,
            )
            store.write_document(keys.service_key(service.name), service.to_json())
        for status, version in VERSIONS.items():
            regions = {r: image_id(name, version, r) for r in (SOURCE, ELSEWHERE)}
            document = PackageVersion(
                package=name,
                version=version,
                status=VersionStatus(status),
                source=Source(region=SOURCE, image_id=regions[SOURCE]),
                distributions={
                    r: Distribution(region=r, status=DistributionStatus.AVAILABLE, image_id=i)
                    for r, i in regions.items()
                },
                revoked_reason="CVE-2026-9999" if status == "revoked" else None,
                revoked_at="2026-02-01T00:00:00Z" if status == "revoked" else None,
            )
            store.write_document(keys.version_key(name, version), document.to_json())


def write_project(root: Path, catalog: Path) -> None:
    """A project with one ROS template per package version; no account in the config."""
    templates = root / "templates"
    templates.mkdir(parents=True)
    lines = [
        "provider: alicloud",
        f"catalog: file://{catalog}",
        f"regions: [{SOURCE}, {ELSEWHERE}]",
        "associations:",
    ]
    for visibility, whitelist in SETUPS:
        name = package_name(visibility, whitelist)
        for version in VERSIONS.values():
            literal = image_id(name, version, SOURCE)
            lines.append(f"  {literal}: {name}@{version}")
            (templates / f"{name}-{version}.yaml").write_text(
                "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Vm:\n    Type: ALIYUN::ECS::Instance\n"
                f"    Properties:\n      ImageId: {literal}\n      InstanceType: ecs.g7.large\n"
            )
    (root / "deploypkg.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def access_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("access")
    build_access_catalog(base / "catalog")
    write_project(base / "project", base / "catalog")
    return base


def test_the_table_covers_every_combination_and_every_outcome() -> None:
    assert len(COMBINATIONS) == 7 * 4 * 4 == len(set(COMBINATIONS))
    outcomes = {c.expected for c in COMBINATIONS}
    assert outcomes == {None, "DPK302", "DPK303", "DPK304", "DPK305"}


@pytest.mark.parametrize("case", COMBINATIONS, ids=lambda c: "|".join(c))
def test_render_applies_the_access_rules(access_project: Path, tmp_path: Path, case: Combination) -> None:
    template = access_project / "project" / "templates" / f"{case.package}-{case.version}.yaml"
    before = tree(access_project)
    out = tmp_path / "out"
    options = RenderOptions(account=ACCOUNTS[case.account])
    if case.expected is None:
        report = render_to_directory([template], [case.region], out, options)
        assert report.regions == (case.region,)
        rendered = (out / case.region / template.name).read_text()
        assert f"ImageId: {image_id(case.package, case.version, case.region)}\n" in rendered
    else:
        with pytest.raises(PolicyError) as caught:
            render_to_directory([template], [case.region], out, options)
        assert caught.value.rule == case.expected, caught.value.message
        assert f"{case.package}@{case.version}" in caught.value.message
        assert caught.value.exit_code == 1
        assert list(tmp_path.iterdir()) == [], "a refused render wrote something"
    assert tree(access_project) == before, "render changed the catalog or the project"


# --- the same rules through `deploypkg plan` and the real terraform -----------------------------

PLAN_CASES = [
    Combination("public", "empty", "none", "published"),  # allowed
    Combination("private", "contains", "whitelisted", "draft, source region"),  # allowed
    Combination("public", "contains", "owner", "draft, elsewhere"),  # DPK302
    Combination("public", "empty", "owner", "revoked"),  # DPK303
    Combination("public", "contains", "stranger", "published"),  # DPK304
    Combination("private", "without", "whitelisted", "published"),  # DPK305
    Combination("no service", "empty", "none", "draft, source region"),  # DPK305
]


def test_plan_cases_cover_allowed_and_every_rule() -> None:
    assert {c.expected for c in PLAN_CASES} == {None, "DPK302", "DPK303", "DPK304", "DPK305"}


@pytest.mark.parametrize("case", PLAN_CASES, ids=lambda c: "|".join(c))
def test_plan_applies_the_access_rules(
    access_project: Path, tmp_path: Path, terraform_bin: str, case: Combination
) -> None:
    module = tmp_path / "module"
    shutil.copytree(FIXTURES / "terraform-plan", module, ignore=shutil.ignore_patterns(".deploypkg", ".terraform"))
    literal = image_id(case.package, case.version, SOURCE)
    main_tf = module / "main.tf"
    main_tf.write_text(main_tf.read_text().replace("m-bp1g7004ksh0oeuc1234", literal))
    (module / "deploypkg.yaml").write_text(
        f"provider: alicloud\ncatalog: file://{access_project / 'catalog'}\nregions: [{SOURCE}, {ELSEWHERE}]\n"
        f"associations:\n  {literal}: {case.package}@{case.version}\nresource_types:\n  terraform_data: [input]\n"
    )
    account = ACCOUNTS[case.account]
    args = ["plan", str(module), "--region", case.region, *(["--account", account] if account else [])]
    before_module, before_catalog = tree(module), tree(access_project)
    result = run_cli(*args, "--", "-no-color", env={"TF_IN_AUTOMATION": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert "Traceback" not in result.stderr
    if case.expected is None:
        assert result.exit_code == 0, result.stderr
        expected = image_id(case.package, case.version, case.region)
        assert f'+ input  = "{expected}"' in result.stdout, result.stdout
        assert (module / ".deploypkg" / "plan" / case.region / "main.tf").is_file()
    else:
        assert result.exit_code == 1, result.stderr
        assert case.expected in result.stderr and f"{case.package}@{case.version}" in result.stderr
        # only plan's own scaffolding (the work-dir lock and .gitignore); no rendered region, no manifest
        scaffolding = {".deploypkg", ".deploypkg/.gitignore", ".deploypkg/plan", ".deploypkg/plan/.plan.lock"}
        after = tree(module)
        assert set(after) - set(before_module) <= scaffolding, sorted(after)
        assert {k: v for k, v in after.items() if k in before_module} == before_module
        assert {p.name for p in tmp_path.iterdir()} <= {"module", "cache"}  # cache: terraform's plugin cache
    assert tree(access_project) == before_catalog


# --- hostile names through the real CLI ------------------------------------------------------------

ABSOLUTE = "<absolute path inside tmp_path>"
"""Replaced at run time by an absolute path inside the test's directory, so a write there would
show in the before/after listing (a fixed ``/abs`` is tried too)."""

HOSTILE: dict[str, str] = {
    "dotdot-slash": "../x",
    "climb-out": "../../../escape",
    "absolute": "/abs",
    "absolute-inside-tmp": ABSOLUTE,
    "slash": "a/b",
    "backslash": "a\\b",
    "nul": "x\x00y",
    "newline": "x\ny",
    "tab": "x\ty",
    "escape": "x\x1b[31my",
    "upper": "UPPER",
    "leading-dash": "-lead",
    "dotdot": "..",
    "dot": ".",
    "empty": "",
    "very-long": "a" * 300,
    "cyrillic-lookalike": "w\u0435b-image",
    "fullwidth-slash": "a\uff0fb",
    "trailing-newline": "web\n",
}

# Values the documented character set allows for that kind (names.py): not hostile there.
DOCUMENTED_OK = {"version": {"upper"}, "account": {"upper", "leading-dash"}}

PUBLISH_IMAGE = ("publish", "--type", "ecs-image", "--image", "cn-hangzhou=m-bp1aaaaaaaaaaaaaaaa")

# kind -> command -> the arguments after `deploypkg`: {v} is the hostile value;
# {catalog} {out} {templates} {file} are filled in per test
COMMANDS: dict[str, dict[str, tuple[str, ...]]] = {
    "package": {
        "publish": ("catalog", "{catalog}", *PUBLISH_IMAGE, "--", "{v}", "1.0.0"),
        "promote": ("catalog", "{catalog}", "promote", "--channel", "prod", "--", "{v}", "2.0.0"),
        "distribute": ("catalog", "{catalog}", "distribute", "--region", "cn-shanghai", "--", "{v}", "1.0.0"),
        "service --package": ("catalog", "{catalog}", "service", "--package", "{v}", "--", "demo-service"),
    },
    "version": {
        "publish": ("catalog", "{catalog}", *PUBLISH_IMAGE, "--", "new-image", "{v}"),
        "distribute": ("catalog", "{catalog}", "distribute", "--region", "cn-shanghai", "--", "app-bundle", "{v}"),
    },
    "channel": {
        "promote": ("catalog", "{catalog}", "promote", "--channel", "{v}", "--", "worker-image", "2.0.0"),
    },
    "region": {
        "publish --image": (
            "catalog",
            "{catalog}",
            "publish",
            "--type",
            "ecs-image",
            "--image",
            "{v}=m-x",
            "--",
            "n",
            "1",
        ),
        "publish --region": (
            "catalog",
            "{catalog}",
            "publish",
            "--type",
            "file",
            "--file",
            "{file}",
            "--region",
            "{v}",
            "--",
            "f",
            "1",
        ),
        "distribute": ("catalog", "{catalog}", "distribute", "--region", "{v}", "--", "app-bundle", "1.0.0"),
        "render": ("render", "--region", "{v}", "--out", "{out}", "{templates}"),
    },
    "account": {
        "publish --owner": ("catalog", "{catalog}", *PUBLISH_IMAGE, "--owner", "{v}", "--", "new-image", "1.0.0"),
        "service --allow": ("catalog", "{catalog}", "service", "--allow", "{v}", "--", "demo-service"),
        "service --allow-add": ("catalog", "{catalog}", "service", "--allow-add", "{v}", "--", "demo-service"),
        "render": ("render", "--region", "cn-beijing", "--account", "{v}", "--out", "{out}", "{templates}"),
    },
    "service": {
        "service": ("catalog", "{catalog}", "service", "--visibility", "public", "--", "{v}"),
    },
}

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
"""Control characters other than newline: printed raw they could rewrite the user's terminal."""

NAME_CASES = [
    pytest.param(kind, command, value_id, id=f"{kind}|{command}|{value_id}")
    for kind, commands in COMMANDS.items()
    for command in commands
    for value_id in HOSTILE
    if value_id not in DOCUMENTED_OK.get(kind, set())
    and not (command == "service --allow" and value_id == "empty")  # --allow '' empties the whitelist
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the alicloud fixture catalog and project, a file to publish, all inside tmp_path."""
    shutil.copytree(FIXTURES / "alicloud" / "catalog", tmp_path / "catalog")
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "alicloud", project, ignore=shutil.ignore_patterns("catalog"))
    config = project / "deploypkg.yaml"
    config.write_text(config.read_text().replace("file://./catalog", f"file://{tmp_path / 'catalog'}"))
    (tmp_path / "upload.bin").write_bytes(b"payload\n")
    return tmp_path


def run_in_process(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The real CLI entry point (``preprocessor.cli.main``) in this process: a NUL cannot travel
    through a child process's argv, and forty child processes per value would be slow."""
    from preprocessor.cli import main

    with pytest.raises(SystemExit) as done:
        main(args)
    code = done.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


@pytest.mark.parametrize(("kind", "command", "value_id"), NAME_CASES)
def test_hostile_names_are_refused_and_nothing_is_written(
    workspace: Path, capsys: pytest.CaptureFixture[str], kind: str, command: str, value_id: str
) -> None:
    value = HOSTILE[value_id]
    if value == ABSOLUTE:
        value = str(workspace / "abs-target")
    fill = {
        "{catalog}": f"--catalog=file://{workspace / 'catalog'}",
        "{out}": str(workspace / "out"),
        "{templates}": str(workspace / "project" / "templates"),
        "{file}": str(workspace / "upload.bin"),
    }
    args = [fill.get(a, a).replace("{v}", value) for a in COMMANDS[kind][command]]
    before = tree(workspace)
    code, stderr = run_in_process(args, capsys)
    assert code == 2, stderr
    # the message names the value (or the whole option value holding it, as in --image REGION=ID)
    assert repr(value) in stderr or any(repr(a) in stderr for a in args if value in a), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert not CONTROL.search(stderr), f"a raw control character reached the terminal: {stderr!r}"
    assert tree(workspace) == before, "a refused command wrote something"
    assert not Path("/abs").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("catalog", "{catalog}", *PUBLISH_IMAGE, "--", "../../escape", "1.0.0"),
        ("catalog", "{catalog}", "promote", "--channel", "../../escape", "--", "worker-image", "2.0.0"),
        ("render", "--region", "../escape", "--out", "{out}", "{templates}"),
    ],
    ids=["publish package", "promote channel", "render region"],
)
def test_hostile_names_through_a_child_process(workspace: Path, args: tuple[str, ...]) -> None:
    """The same refusals when the CLI runs as a user runs it (a child process, argv bytes)."""
    fill = {
        "{catalog}": f"--catalog=file://{workspace / 'catalog'}",
        "{out}": str(workspace / "out"),
        "{templates}": str(workspace / "project" / "templates"),
    }
    before = tree(workspace)
    result = run_cli(*(fill.get(a, a) for a in args))
    assert result.exit_code == 2, result.stderr
    assert "escape'" in result.stderr and "Traceback" not in result.stderr
    assert tree(workspace) == before


HOSTILE_FILE_NAMES = {
    "newline": "x\ny",
    "tab": "x\ty",
    "escape": "x\x1b[31my",
    "delete": "x\x7fy",
    "space": "a b",
    "shell": "$(id).sh",
    "semicolon": "x;y",
    "hidden": ".hidden",
    "leading-dash": "-lead.bin",
    "cyrillic-lookalike": "\u0430pp.tar.gz",
    "non-ascii": "\u00fcn\u00ef.bin",
    "long-utf8": "\u00e9" * 127,
}


@pytest.mark.parametrize("name", HOSTILE_FILE_NAMES.values(), ids=HOSTILE_FILE_NAMES.keys())
def test_hostile_file_basenames_are_refused(workspace: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    uploads = workspace / "uploads"
    uploads.mkdir()
    (uploads / name).write_bytes(b"payload\n")
    args = ["catalog", f"--catalog=file://{workspace / 'catalog'}", "publish", "--type", "file"]
    before = tree(workspace)
    code, stderr = run_in_process([*args, "--file", str(uploads / name), "--region", "cn-hangzhou", "f", "1"], capsys)
    assert code == 2, stderr
    assert repr(name) in stderr and "Traceback" not in stderr
    assert tree(workspace) == before


# (an ESC sequence is not tried: click strips ANSI sequences when stderr is not a terminal, so this
# capture cannot see it, though a terminal would get it)
@pytest.mark.parametrize("name", ["x\x7fy", "x\x08y", "x\ry"], ids=["delete", "backspace", "carriage-return"])
def test_a_control_character_in_a_file_name_never_reaches_the_terminal_raw(
    workspace: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    (workspace / name).write_bytes(b"payload\n")
    args = ["catalog", f"--catalog=file://{workspace / 'catalog'}", "publish", "--type", "file"]
    code, stderr = run_in_process([*args, "--file", str(workspace / name), "--region", "cn-hangzhou", "f", "1"], capsys)
    assert code == 2, stderr
    assert not CONTROL.search(stderr), f"a raw control character reached the terminal: {stderr!r}"


def test_a_file_path_ending_in_dotdot_is_refused(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["catalog", f"--catalog=file://{workspace / 'catalog'}", "publish", "--type", "file"]
    target = workspace / "project" / ".."
    before = tree(workspace)
    code, stderr = run_in_process([*args, "--file", str(target), "--region", "cn-hangzhou", "f", "1"], capsys)
    assert code == 2 and str(target) in stderr, stderr
    assert tree(workspace) == before


# --- keys crafted inside catalog documents -----------------------------------------------------------

APP_BUNDLE = "packages/app-bundle/versions/1.0.0.json"
CRAFTED_KEYS = {
    "climb": "../../../escape/app-bundle.tar.gz",
    "climb-inside-files": "files/sha256/../../../../escape/app-bundle.tar.gz",
    "absolute": "<absolute>",
    "backslash": "files\\..\\..\\escape.tar.gz",
    "nul": "files/x\x00y",
    "dot-segment": "files/./sha256/x",
    "empty-segment": "files//x",
}


def craft(workspace: Path, *, key: str | None = None, bucket: str | None = None) -> None:
    """Point app-bundle 1.0.0's source and every distribution at ``key`` / ``bucket``, and put the
    real bytes there so that following it would succeed."""
    path = workspace / "catalog" / APP_BUNDLE
    document = json.loads(path.read_text())
    entries = [document["source"], *document["distributions"].values()]
    original = entries[0]["object_key"]
    payload = (workspace / "catalog" / "buckets" / "deploypkg-demo-cn-hangzhou" / original).read_bytes()
    for entry in entries:
        if key is not None:
            entry["object_key"] = key
        if bucket is not None:
            entry["bucket"] = bucket
    path.write_text(json.dumps(document, indent=2))
    escape = workspace / "escape"
    escape.mkdir()
    (escape / "app-bundle.tar.gz").write_bytes(payload)
    (workspace / "escape.tar.gz").write_bytes(payload)


def outside_catalog(workspace: Path) -> dict[str, str]:
    return {k: v for k, v in tree(workspace).items() if not k.startswith("catalog/buckets/")}


@pytest.mark.parametrize(
    ("key", "bucket"),
    [*((k, None) for k in CRAFTED_KEYS.values()), (None, "../../escape"), (None, "..")],
    ids=[*(f"key-{k}" for k in CRAFTED_KEYS), "bucket-climb", "bucket-dotdot"],
)
@pytest.mark.parametrize("command", ["render", "distribute"])
def test_a_crafted_key_in_a_version_document_never_leaves_the_bucket(
    workspace: Path, capsys: pytest.CaptureFixture[str], key: str | None, bucket: str | None, command: str
) -> None:
    if key == "<absolute>":
        key = str(workspace / "escape" / "app-bundle.tar.gz")
    craft(workspace, key=key, bucket=bucket)
    before = tree(workspace)
    if command == "render":
        args = ["render", "--region", "cn-beijing", "--out", str(workspace / "out"), str(workspace / "project")]
    else:
        # a region without a copy yet, so distribute has to read the source and write a copy
        store = LocalStore(workspace / "catalog")
        path = workspace / "catalog" / APP_BUNDLE
        document = json.loads(path.read_text())
        del document["distributions"]["cn-shanghai"]
        path.write_text(json.dumps(document, indent=2))
        shutil.rmtree(store.root / "buckets" / "deploypkg-demo-cn-shanghai")
        before = tree(workspace)
        args = ["catalog", f"--catalog=file://{workspace / 'catalog'}", "distribute", "--region", "cn-shanghai"]
        args += ["--", "app-bundle", "1.0.0"]
    code, stderr = run_in_process(args, capsys)
    assert code in (1, 2), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    crafted = key if key is not None else bucket
    assert repr(crafted) in stderr or (crafted or "") in stderr, stderr
    after = tree(workspace)
    if command == "render":
        assert after == before and not (workspace / "out").exists()
    else:
        # distribute may record the failed region in the catalog; nothing else changes
        changed = {k for k in set(after) | set(before) if after.get(k) != before.get(k)}
        assert changed <= {f"catalog/{APP_BUNDLE}", "catalog/.deploypkg.lock"}, sorted(changed)
        assert "cn-shanghai: failed" in stderr


# --- hostile names in the project config and the catalog's bucket pattern ------------------------------


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("../../x", "'../../x'"),
        ("/abs", "'/abs'"),
        ("web-image@../x", "'../x'"),
        ("web-image@", "''"),
        ("web-image#../x", "'../x'"),
        ("web-image#PROD", "'PROD'"),
        ("web-image#", "''"),
    ],
)
def test_a_hostile_association_in_the_config_is_refused_with_its_position(
    workspace: Path, capsys: pytest.CaptureFixture[str], spec: str, named: str
) -> None:
    config = workspace / "project" / "deploypkg.yaml"
    text, count = re.subn(r"(?m)^(  m-bp1g7004ksh0oeuc1234: )web-image\b", rf'\g<1>"{spec}"', config.read_text())
    assert count == 1
    config.write_text(text)
    before = tree(workspace)
    templates = str(workspace / "project" / "templates")
    code, stderr = run_in_process(
        ["render", "--region", "cn-beijing", "--out", str(workspace / "out"), templates], capsys
    )
    assert code == 2, stderr
    assert named in stderr and f"{config}:" in stderr and "DPK010" in stderr, stderr
    assert tree(workspace) == before


def test_a_hostile_region_in_the_config_is_refused(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = workspace / "project" / "deploypkg.yaml"
    config.write_text(config.read_text().replace("regions: [", "regions: [../escape, "))
    before = tree(workspace)
    templates = str(workspace / "project" / "templates")
    code, stderr = run_in_process(["render", "--all-regions", "--out", str(workspace / "out"), templates], capsys)
    assert code == 2 and "'../escape'" in stderr, stderr
    assert tree(workspace) == before


def test_a_crafted_bucket_pattern_never_leaves_the_catalog(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    info = workspace / "catalog" / "catalog.json"
    info.write_text(info.read_text().replace("deploypkg-demo-{region}", "../../escape-{region}"))
    before = tree(workspace)
    args = ["catalog", f"--catalog=file://{workspace / 'catalog'}", "distribute", "--region", "cn-shenzhen"]
    code, stderr = run_in_process([*args, "--", "app-bundle", "1.0.0"], capsys)
    assert code == 1 and "invalid bucket name '../../escape-cn-shenzhen'" in stderr, stderr
    after = tree(workspace)
    changed = {k for k in set(after) | set(before) if after.get(k) != before.get(k)}
    assert changed <= {f"catalog/{APP_BUNDLE}", "catalog/.deploypkg.lock"}, sorted(changed)


# --- a link inside the catalog directory that points out of it -------------------------------------------


def test_a_link_in_a_bucket_pointing_outside_is_not_written_through(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = workspace / "catalog" / APP_BUNDLE
    document = json.loads(path.read_text())
    del document["distributions"]["cn-shanghai"]
    path.write_text(json.dumps(document, indent=2))
    bucket = workspace / "catalog" / "buckets" / "deploypkg-demo-cn-shanghai"
    shutil.rmtree(bucket)
    bucket.mkdir()
    (workspace / "outside").mkdir()
    (bucket / "files").symlink_to(workspace / "outside", target_is_directory=True)
    args = ["catalog", f"--catalog=file://{workspace / 'catalog'}", "distribute", "--region", "cn-shanghai"]
    code, stderr = run_in_process([*args, "--", "app-bundle", "1.0.0"], capsys)
    assert list((workspace / "outside").iterdir()) == [], "distribute wrote through a link out of the catalog"
    assert code == 1 and "cn-shanghai: failed" in stderr and "outside the catalog" in stderr, stderr


def test_a_link_to_a_document_outside_the_catalog_is_not_read(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services = workspace / "catalog" / "services"
    (workspace / "elsewhere").mkdir()
    shutil.move(services / "demo-service.json", workspace / "elsewhere" / "demo-service.json")
    (services / "demo-service.json").symlink_to(workspace / "elsewhere" / "demo-service.json")
    templates = str(workspace / "project" / "templates")
    before = tree(workspace)
    code, stderr = run_in_process(
        ["render", "--region", "cn-beijing", "--out", str(workspace / "out"), templates], capsys
    )
    assert code == 2 and "outside the catalog" in stderr, stderr
    assert tree(workspace) == before


@pytest.mark.parametrize(
    "key",
    ["files/x\x85y.tar.gz", "files/app\u202ezg.rat.sh", "files/app\u200b-bundle.tar.gz"],
    ids=["c1-control", "bidi-override", "zero-width"],
)
def test_a_key_with_invisible_characters_is_refused_even_when_the_object_exists(
    workspace: Path, capsys: pytest.CaptureFixture[str], key: str
) -> None:
    """Inside the bucket, but a key a person reading the catalog or a log would misread."""
    craft(workspace, key=key)
    bucket = workspace / "catalog" / "buckets" / "deploypkg-demo-cn-beijing"
    (bucket / "files").mkdir(exist_ok=True)
    (bucket / key).write_bytes((workspace / "escape.tar.gz").read_bytes())
    before = tree(workspace)
    templates = str(workspace / "project" / "templates")
    args = ["render", "--region", "cn-beijing", "--out", str(workspace / "out"), templates]
    code, stderr = run_in_process(args, capsys)
    assert code == 2 and repr(key) in stderr and "invisible formatting" in stderr, stderr
    assert not CONTROL.search(stderr)
    assert tree(workspace) == before


@pytest.mark.parametrize("version", ["../../../../etc/passwd", "/etc/passwd", "2.0.0/../../x", "2.0.0\x00"])
def test_a_channel_document_pointing_out_of_the_catalog_is_refused(
    workspace: Path, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    path = workspace / "catalog" / "packages" / "worker-image" / "channels" / "prod.json"
    document = json.loads(path.read_text())
    document["version"] = version
    path.write_text(json.dumps(document, indent=2))
    before = tree(workspace)
    templates = str(workspace / "project" / "templates")
    args = ["render", "--region", "cn-beijing", "--out", str(workspace / "out"), templates]
    code, stderr = run_in_process(args, capsys)
    assert code == 2 and repr(version) in stderr, stderr
    assert "Traceback" not in stderr and not CONTROL.search(stderr)
    assert tree(workspace) == before
