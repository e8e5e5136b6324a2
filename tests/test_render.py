"""``render`` against the fixture local catalogs: values per region, every access rule, atomicity,
determinism, ``--all-regions`` exclusions, the manifest and the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import run_cli

from preprocessor.catalog import operations
from preprocessor.catalog.model import Visibility
from preprocessor.catalog.opening import open_store
from preprocessor.errors import DeploypkgError, InputError, PolicyError
from preprocessor.render import RenderOptions, ValidationRefused, render_to_directory

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
ALICLOUD_CATALOG = FIXTURES / "alicloud" / "catalog"
OWNER = "1234567890123456"

WEB = {
    "cn-hangzhou": "m-bp1g7004ksh0oeuc1234",
    "cn-beijing": "m-2zeb3kq6nfv9wd8x1234",
    "cn-shanghai": "m-uf6e5t0rlw3pq2vn1234",
}
WORKER = {"cn-hangzhou": "m-bp1dbcw2zx04ke8o5678", "cn-beijing": "m-2ze7ua1ra8vg0d3f5678"}

ROS_YAML = """\
ROSTemplateFormatVersion: '2015-09-01'
# A comment that must survive.
Resources:
  Web:
    Type: ALIYUN::ECS::Instance
    Properties:
      ImageId: m-bp1g7004ksh0oeuc1234   # web-image
      InstanceType: ecs.g7.large
      UserData:
        Fn::Sub: |
          curl -fsS '{{ computenest::file::app-bundle }}' -o /tmp/app.tgz
          docker pull {{ computenest::acrimage::web-frontend }}
          helm install web {{ computenest::helmchart::web-chart }}
          curl -fsS {{ computenest::publicfile::install-script }} | sh
          echo {{resolve:ssm:/not/ours}}
"""

WORKER_JSON = (
    '{\r\n  "ROSTemplateFormatVersion": "2015-09-01",\r\n  "Resources": {\r\n'
    '    "Worker": {"Type": "ALIYUN::ECS::Instance", "Properties": {"ImageId": "m-bp1dbcw2zx04ke8o5678"}}\r\n'
    "  }\r\n}\r\n"
)

MAIN_TF = """\
# a module: every file is copied along
resource "alicloud_instance" "web" {
  image_id      = "m-bp1g7004ksh0oeuc1234" // web-image
  instance_type = "ecs.g7.large"
}
"""


def _project(
    tmp_path: Path,
    *,
    catalog: Path = ALICLOUD_CATALOG,
    associations: str = "",
    worker: bool = False,
    account: str | None = OWNER,
) -> Path:
    root = tmp_path / "project"
    templates = root / "templates"
    templates.mkdir(parents=True)
    config = f"provider: alicloud\ncatalog: file://{catalog}\nregions: [cn-hangzhou, cn-beijing, cn-shanghai]\n"
    if account:
        config += f"account: '{account}'\n"
    config += "associations:\n" + (
        associations
        or "  m-bp1g7004ksh0oeuc1234: web-image\n  m-bp1dbcw2zx04ke8o5678: worker-image#prod\n"
        "  app-bundle: app-bundle\n  install-script: install-script\n  web-frontend: web-frontend\n"
        "  web-chart: web-chart\n"
    )
    (root / "deploypkg.yaml").write_text(config)
    (templates / "web.yaml").write_text(ROS_YAML)
    module = templates / "module"
    module.mkdir()
    (module / "main.tf").write_text(MAIN_TF)
    (module / "README.txt").write_text("not a template\n")
    (module / ".terraform").mkdir()
    (module / ".terraform" / "junk").write_text("provider cache\n")
    if worker:
        (templates / "worker.json").write_bytes(WORKER_JSON.encode())
    return root


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _catalog_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "catalog"
    shutil.copytree(ALICLOUD_CATALOG, copy)
    return copy


def test_each_region_gets_its_own_values_and_everything_else_is_kept(tmp_path: Path) -> None:
    root = _project(tmp_path)
    out = tmp_path / "out"
    report = render_to_directory([root / "templates"], ["cn-beijing", "cn-shanghai"], out, RenderOptions())
    assert report.regions == ("cn-beijing", "cn-shanghai")
    for region in report.regions:
        text = (out / region / "web.yaml").read_text()
        assert f"ImageId: {WEB[region]}   # web-image" in text
        assert f"registry.{region}.aliyuncs.com/demo/web-frontend:1.0.0" in text
        assert f"oci://registry.{region}.aliyuncs.com/demo-charts/web-chart:1.0.0" in text
        assert f"deploypkg-demo-{region}" in text
        assert "computenest::" not in text
        assert "{{resolve:ssm:/not/ours}}" in text and "# A comment that must survive." in text
        tf = (out / region / "module" / "main.tf").read_text()
        assert tf == MAIN_TF.replace(WEB["cn-hangzhou"], WEB[region])
        # Non-template files of a module come along; .terraform does not.
        assert (out / region / "module" / "README.txt").read_text() == "not a template\n"
        assert not (out / region / "module" / ".terraform").exists()
        artifacts = json.loads((out / region / "artifacts.json").read_text())["artifacts"]
        kinds = {(a["package"], a["kind"]) for a in artifacts}
        assert kinds == {
            ("web-image", "image"),
            ("app-bundle", "file"),
            ("install-script", "publicfile"),
            ("web-frontend", "acrimage"),
            ("web-chart", "helmchart"),
        }
        bundle = next(a for a in artifacts if a["package"] == "app-bundle")
        assert bundle["region"] == region and bundle["version"] == "1.0.0" and bundle["type"] == "file"
        assert Path(bundle["url"].removeprefix("file://")).read_bytes()  # the local store's regional object


def test_manifest_records_every_substitution_the_channel_and_the_documents(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    out = tmp_path / "out"
    render_to_directory([root / "templates"], ["cn-beijing"], out, RenderOptions())
    manifest = json.loads((out / "manifest.json").read_text())
    subs = manifest["regions"]["cn-beijing"]["substitutions"]
    worker = next(s for s in subs if s["file"] == "worker.json")
    assert worker["old"] == WORKER["cn-hangzhou"] and worker["new"] == WORKER["cn-beijing"]
    assert worker["package"] == "worker-image@2.0.0" and worker["channel"] == "prod"
    line = WORKER_JSON.split("\r\n")[3]
    assert (worker["line"], worker["column"]) == (4, line.index(WORKER["cn-hangzhou"]) + 1)
    web = next(s for s in subs if s["file"] == "web.yaml" and s["kind"] == "image")
    assert (web["line"], web["column"], web["old"], web["new"]) == (7, 16, WEB["cn-hangzhou"], WEB["cn-beijing"])
    assert "channel" not in web
    assert len([s for s in subs if s["file"] == "web.yaml"]) == 5
    documents = manifest["catalogs"][0]["documents"]
    assert "packages/worker-image/channels/prod.json" in documents
    assert "packages/web-image/versions/1.0.0.json" in documents
    assert all(len(etag) >= 16 for etag in documents.values())
    # CRLF kept in the JSON template.
    assert (out / "cn-beijing" / "worker.json").read_bytes() == WORKER_JSON.replace(
        WORKER["cn-hangzhou"], WORKER["cn-beijing"]
    ).encode()


def test_rendering_twice_gives_identical_output(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    render_to_directory([root / "templates"], ["cn-hangzhou", "cn-beijing"], tmp_path / "a", RenderOptions())
    render_to_directory([root / "templates"], ["cn-hangzhou", "cn-beijing"], tmp_path / "b", RenderOptions())
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second
    assert "cn-beijing/web.yaml" in first


# --- access rules --------------------------------------------------------------------------------


def _refusal(tmp_path: Path, regions: list[str], **kwargs: object) -> PolicyError:
    root = _project(tmp_path, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(PolicyError) as caught:
        render_to_directory([root / "templates" / "web.yaml"], regions, tmp_path / "out", RenderOptions())
    assert not (tmp_path / "out").exists()
    return caught.value


def test_a_draft_is_usable_only_in_its_source_region(tmp_path: Path) -> None:
    associations = "  m-bp1g7004ksh0oeuc1234: web-image@1.1.0\n" + "".join(
        f"  {n}: {n}\n" for n in ("app-bundle", "install-script", "web-frontend", "web-chart")
    )
    root = _project(tmp_path, associations=associations)
    out = tmp_path / "out"
    render_to_directory([root / "templates" / "web.yaml"], ["cn-hangzhou"], out, RenderOptions())
    assert "ImageId: m-bp1hq9xw0dnk2c7r5678" in (out / "cn-hangzhou" / "web.yaml").read_text()
    with pytest.raises(PolicyError) as caught:
        render_to_directory([root / "templates" / "web.yaml"], ["cn-beijing"], tmp_path / "out2", RenderOptions())
    assert caught.value.rule == "DPK302"
    assert "cn-beijing" in caught.value.message and "web-image@1.1.0" in caught.value.message
    assert caught.value.hint is not None and "in: cn-hangzhou" in caught.value.hint


def test_an_unavailable_region_names_the_regions_where_it_is_available(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    with pytest.raises(PolicyError) as caught:
        render_to_directory([root / "templates"], ["cn-shanghai"], tmp_path / "out", RenderOptions())
    error = caught.value
    assert error.rule == "DPK301" and "worker-image@2.0.0" in error.message and "cn-shanghai" in error.message
    assert error.hint is not None and "in: cn-beijing, cn-hangzhou" in error.hint
    assert not (tmp_path / "out").exists()


def test_a_revoked_version_is_refused(tmp_path: Path) -> None:
    catalog = _catalog_copy(tmp_path)
    operations.revoke(open_store(f"file://{catalog}"), "web-image", "1.0.0", "CVE-2026-0001")
    associations = "  m-bp1g7004ksh0oeuc1234: web-image@1.0.0\n" + "".join(
        f"  {n}: {n}\n" for n in ("app-bundle", "install-script", "web-frontend", "web-chart")
    )
    error = _refusal(tmp_path, ["cn-beijing"], catalog=catalog, associations=associations)
    assert error.rule == "DPK303" and "CVE-2026-0001" in error.message
    assert error.hint is not None and "no region" in error.hint


def test_a_private_package_is_refused_to_other_accounts_and_allowed_to_its_owner(tmp_path: Path) -> None:
    catalog = _catalog_copy(tmp_path)
    operations.service(open_store(f"file://{catalog}"), "demo-service", Visibility.PRIVATE)
    error = _refusal(tmp_path, ["cn-beijing"], catalog=catalog, account="999999")
    assert error.rule == "DPK305" and "999999" in error.message
    root = tmp_path / "project"
    report = render_to_directory([root / "templates"], ["cn-beijing"], tmp_path / "owner", RenderOptions(account=OWNER))
    assert report.regions == ("cn-beijing",)


def test_a_whitelist_admits_only_listed_accounts(tmp_path: Path) -> None:
    catalog = _catalog_copy(tmp_path)
    operations.service(open_store(f"file://{catalog}"), "demo-service", Visibility.PUBLIC, allow=["555555"])
    error = _refusal(tmp_path, ["cn-beijing"], catalog=catalog, account="999999")
    assert error.rule == "DPK304"
    root = tmp_path / "project"
    report = render_to_directory(
        [root / "templates"], ["cn-beijing"], tmp_path / "listed", RenderOptions(account="555555")
    )
    assert report.regions == ("cn-beijing",)


def test_a_reference_of_the_wrong_package_type_is_refused(tmp_path: Path) -> None:
    associations = "  m-bp1g7004ksh0oeuc1234: app-bundle\n" + "".join(
        f"  {n}: {n}\n" for n in ("app-bundle", "install-script", "web-frontend", "web-chart")
    )
    root = _project(tmp_path, associations=associations)
    with pytest.raises(InputError) as caught:
        render_to_directory([root / "templates" / "web.yaml"], ["cn-beijing"], tmp_path / "out", RenderOptions())
    assert caught.value.rule == "DPK310"


# --- --all-regions, atomicity, refusals ------------------------------------------------------------


def test_all_regions_renders_where_every_package_is_usable_and_lists_the_rest(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    out = tmp_path / "out"
    report = render_to_directory([root / "templates"], [], out, RenderOptions(all_regions=True))
    assert report.regions == ("cn-beijing", "cn-hangzhou")
    assert set(report.excluded) == {"cn-shanghai"}
    assert "DPK301" in report.excluded["cn-shanghai"] and "worker-image" in report.excluded["cn-shanghai"]
    assert sorted(p.name for p in out.iterdir()) == ["cn-beijing", "cn-hangzhou", "manifest.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["excluded_regions"]) == {"cn-shanghai"}


def test_all_regions_without_configured_regions_uses_the_regions_packages_were_distributed_to(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, worker=True)
    config = root / "deploypkg.yaml"
    config.write_text(config.read_text().replace("regions: [cn-hangzhou, cn-beijing, cn-shanghai]\n", ""))
    report = render_to_directory([root / "templates"], [], tmp_path / "out", RenderOptions(all_regions=True))
    assert report.regions == ("cn-beijing", "cn-hangzhou")
    assert list(report.excluded) == ["cn-shanghai"]


def test_a_failing_region_leaves_the_output_directory_exactly_as_it_was(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    out = tmp_path / "out"
    render_to_directory([root / "templates"], ["cn-hangzhou"], out, RenderOptions())
    before = _tree(out)
    with pytest.raises(PolicyError):
        render_to_directory([root / "templates"], ["cn-beijing", "cn-shanghai"], out, RenderOptions())
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]  # no temporary directory left


def test_a_successful_render_replaces_the_previous_output(tmp_path: Path) -> None:
    root = _project(tmp_path)
    out = tmp_path / "out"
    render_to_directory([root / "templates"], ["cn-hangzhou"], out, RenderOptions())
    render_to_directory([root / "templates"], ["cn-beijing"], out, RenderOptions())
    assert sorted(p.name for p in out.iterdir()) == ["cn-beijing", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]


def test_an_unrelated_non_empty_directory_or_one_holding_the_inputs_is_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine\n")
    with pytest.raises(InputError, match="not the output of an earlier render"):
        render_to_directory([root / "templates"], ["cn-hangzhou"], keep, RenderOptions())
    assert (keep / "notes.txt").read_text() == "mine\n"
    with pytest.raises(InputError, match="replace the sources"):
        render_to_directory([root / "templates"], ["cn-hangzhou"], root, RenderOptions())


def test_validation_errors_refuse_the_render(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "templates" / "stray.yaml").write_text(
        "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  X:\n    Type: ALIYUN::ECS::Instance\n"
        "    Properties:\n      ImageId: m-zzzzzzzzzzzzzzzzzzzz\n"
    )
    with pytest.raises(ValidationRefused) as caught:
        render_to_directory([root / "templates"], ["cn-hangzhou"], tmp_path / "out", RenderOptions())
    assert [d.rule_id for d in caught.value.diagnostics] == ["DPK102"]
    assert not (tmp_path / "out").exists()
    result = run_cli("render", str(root / "templates"), "--region", "cn-hangzhou", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "stray.yaml:6:" in result.stderr and "DPK102" in result.stderr and "Traceback" not in result.stderr


def test_usage_errors(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with pytest.raises(InputError, match="no region"):
        render_to_directory([root / "templates"], [], tmp_path / "out", RenderOptions())
    with pytest.raises(InputError, match="not both"):
        render_to_directory([root / "templates"], ["cn-beijing"], tmp_path / "out", RenderOptions(all_regions=True))
    with pytest.raises(InputError, match="invalid region"):
        render_to_directory([root / "templates"], ["../etc"], tmp_path / "out", RenderOptions())
    with pytest.raises(DeploypkgError):
        render_to_directory([root / "templates"], ["cn-beijing"], tmp_path / "out", RenderOptions(account="a/b"))


def test_cli_text_and_json(tmp_path: Path) -> None:
    root = _project(tmp_path, worker=True)
    out = tmp_path / "out"
    result = run_cli("render", str(root / "templates"), "--all-regions", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "cn-beijing:" in result.stdout and "excluded cn-shanghai:" in result.stderr
    result = run_cli("render", str(root / "templates"), "--region", "cn-beijing", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["regions"] == ["cn-beijing"] and report["substitutions"] == 7
    failed = run_cli("render", str(root / "templates"), "--region", "cn-shanghai", "--out", str(out))
    assert failed.exit_code == 1
    assert "DPK301" in failed.stderr and "cn-beijing, cn-hangzhou" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_output_inside_the_input_tree_is_skipped_with_leftover_staging_directories(tmp_path: Path) -> None:
    root = _project(tmp_path)
    templates = root / "templates"
    out = templates / "rendered"
    render_to_directory([templates], ["cn-hangzhou"], out, RenderOptions())
    (templates / ".rendered.render-0123456789ab").mkdir()  # as if a render had been killed
    (templates / ".rendered.render-0123456789ab" / "web.yaml").write_text("half\n")
    report = render_to_directory([templates], ["cn-beijing"], out, RenderOptions())
    assert not any("rendered" in name for name in report.files["cn-beijing"])
    assert sorted(report.files["cn-beijing"]) == ["module/README.txt", "module/main.tf", "web.yaml"]


def test_a_symlink_inside_the_inputs_keeps_its_place(tmp_path: Path) -> None:
    root = _project(tmp_path)
    elsewhere = root / "shared"  # outside the input directory, inside the project
    elsewhere.mkdir()
    (elsewhere / "shared.tf").write_text(MAIN_TF)
    (root / "templates" / "linked.tf").symlink_to(elsewhere / "shared.tf")
    out = tmp_path / "out"
    render_to_directory([root / "templates"], ["cn-beijing"], out, RenderOptions())
    assert (out / "cn-beijing" / "linked.tf").read_text() == MAIN_TF.replace(WEB["cn-hangzhou"], WEB["cn-beijing"])


def test_two_inputs_writing_the_same_output_are_refused(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "templates" / "web.yaml.j2").write_text("a: {{ region }}\n")
    with pytest.raises(InputError, match=r"would both be written to web\.yaml"):
        render_to_directory([root / "templates"], ["cn-beijing"], tmp_path / "out", RenderOptions())


def test_an_expiry_out_of_range_is_refused_through_the_api_too(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for expires in (0, 604801):
        with pytest.raises(InputError, match="out of range"):
            render_to_directory([root / "templates"], ["cn-beijing"], tmp_path / "out", RenderOptions(expires=expires))


def test_a_malformed_placeholder_is_refused_even_when_its_rule_is_turned_off(tmp_path: Path) -> None:
    root = _project(tmp_path)
    config = root / "deploypkg.yaml"
    config.write_text(config.read_text() + "rules:\n  DPK203: off\n")
    web = root / "templates" / "web.yaml"
    web.write_text(web.read_text().replace("computenest::acrimage::web-frontend", "computenest::docker::web-frontend"))
    with pytest.raises(InputError) as caught:
        render_to_directory([web], ["cn-beijing"], tmp_path / "out", RenderOptions())
    assert caught.value.rule == "DPK203" and caught.value.line == 12


def test_a_symlink_loop_or_dangling_link_is_a_named_error(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "templates" / "loop.yaml").symlink_to("loop.yaml")
    with pytest.raises(InputError) as caught:
        render_to_directory([root / "templates"], ["cn-beijing"], tmp_path / "out", RenderOptions())
    assert caught.value.rule == "DPK002" and caught.value.file is not None and "loop.yaml" in caught.value.file
    (root / "templates" / "loop.yaml").unlink()
    (root / "templates" / "gone.tf").symlink_to(tmp_path / "missing.tf")
    result = run_cli("render", str(root / "templates"), "--region", "cn-beijing", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "gone.tf" in result.stderr and "DPK002" in result.stderr
    assert not (tmp_path / "out").exists()
