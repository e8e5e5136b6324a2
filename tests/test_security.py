"""Security (issue #5 §5): every combination of the access rules through ``render`` (and a
subset through ``plan`` with the real terraform), and hostile names through the real CLI, with
proof that nothing is written outside ``--out`` or the catalog prefix.

The expected access outcome comes from :func:`expected_outcome`, a small oracle written from the
rules in ``preprocessor/catalog/access.py``'s docstring, never from ``access.check`` itself."""

from __future__ import annotations

import hashlib
import json
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
    result = run_cli(
        *args, "--", "-no-color", env={"TF_IN_AUTOMATION": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    )
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
