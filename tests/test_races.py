"""Races between OS processes on one package, on the local store and on S3 (moto server).

Each racer is a forked process running the real CLI entry point (``preprocessor.cli.main``, as
``python -m preprocessor`` does) with its own store, stdout and stderr. Every racer is forked
first and waits at a barrier, so they start their command together; some rounds stagger them by a
few milliseconds so that other orders happen too. Every racer has a wall-clock budget.

What must hold whatever the order: a published version's document never changes once it is
published (a watcher in the test process reads it throughout the race), a channel ends on one of
the versions written to it with a history that lists each successful promotion exactly once and
ends with that version, and every loser exits 1 with a message saying what happened.

On S3 a conditional write that fails because the document already holds exactly its bytes is
reported as done (``S3Store._holds``: the answer to a write that landed can be lost and retried).
Two releases of one draft within the same second write identical bytes, so on S3 more than one
releaser may report success for the one release; on the local store exactly one does.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from catalog_testing import CatalogEnv, make_env
from ecs_double import EcsDouble

from preprocessor.catalog import operations
from preprocessor.catalog.keys import version_key
from preprocessor.catalog.model import PackageType, VersionStatus
from preprocessor.catalog.store import Store
from preprocessor.catalog.writes import read_channel, require_version

PACKAGE = "web-image"
FIRST_IMAGE = "m-bp1hq9xw0dnk2c7r5678"
RACER_BUDGET = 30.0
"""Seconds a racer may take before it is killed and the test fails."""

FORK = multiprocessing.get_context("fork")


def _preload() -> None:
    """Import what the racers run before forking them, so none starts late by importing it."""
    import boto3

    import preprocessor.catalog.s3
    import preprocessor.cli.catalog_cmd  # noqa: F401

    boto3.session.Session().client("s3", region_name="us-east-1")  # botocore's lazy imports
    import alibabacloud_ecs20140526.client  # noqa: F401  (release applies ECS share permissions)

    import providers.alicloud_images  # noqa: F401


def image(n: int) -> str:
    return f"m-bp1race{n:02d}0000000000{n:02d}"


@pytest.fixture(params=["local", "s3"])
def env(request: pytest.FixtureRequest, tmp_path: Path, ecs: EcsDouble) -> CatalogEnv:
    if request.param == "s3":
        request.getfixturevalue("aws_env")
    for image_id in (FIRST_IMAGE, *(image(n) for n in range(100))):  # release shares them on ECS
        ecs.add_image("cn-hangzhou", image_id, image_id=image_id)
    made = make_env(request.param, tmp_path)
    _preload()
    operations.init(made.store(), "alicloud", made.bucket_pattern)
    return made


# ------------------------------------------------------------------ racers


class Racer(NamedTuple):
    args: tuple[str, ...]
    delay: float = 0.0
    """Seconds to wait after the barrier (0: start with the others)."""


class Outcome(NamedTuple):
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str


def _racer(url: str, racer: Racer, barrier: Barrier, out: str, err: str) -> None:
    """In the forked child: run the CLI once, then exit with its exit code. Never returns."""
    code = 3
    try:
        os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
        os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - flushed at exit
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        from preprocessor.cli import main

        barrier.wait(timeout=RACER_BUDGET)
        if racer.delay:
            time.sleep(racer.delay)
        try:
            main(["catalog", "--catalog", url, *racer.args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException as error:
        import traceback

        traceback.print_exception(error)
        code = 3
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class Race:
    """Fork the racers (held at a barrier), then :meth:`go` lets them run together."""

    def __init__(self, env: CatalogEnv, racers: Sequence[Racer], workdir: Path) -> None:
        self.racers = list(racers)
        self.barrier = FORK.Barrier(len(racers) + 1)
        workdir.mkdir(parents=True, exist_ok=True)
        self.files = [(workdir / f"{n}.out", workdir / f"{n}.err") for n in range(len(racers))]
        self.processes = [
            FORK.Process(target=_racer, args=(env.url, racer, self.barrier, str(out), str(err)))
            for racer, (out, err) in zip(self.racers, self.files, strict=True)
        ]
        for process in self.processes:
            process.start()

    def go(self) -> list[Outcome]:
        self.barrier.wait(timeout=RACER_BUDGET)
        deadline = time.monotonic() + RACER_BUDGET
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        late = [p for p in self.processes if p.is_alive()]
        for process in late:
            process.kill()
            process.join()
        assert not late, f"{len(late)} racer(s) still running after {RACER_BUDGET} s"
        outcomes = []
        for racer, process, (out, err) in zip(self.racers, self.processes, self.files, strict=True):
            assert process.exitcode is not None
            outcomes.append(Outcome(racer.args, process.exitcode, out.read_text(), err.read_text()))
        for outcome in outcomes:
            assert "Traceback" not in outcome.stderr, outcome
            assert outcome.exit_code in (0, 1), outcome
        return outcomes


def race(env: CatalogEnv, racers: Sequence[Racer], workdir: Path) -> list[Outcome]:
    return Race(env, racers, workdir).go()


class Watcher:
    """Reads one version document over and over during a race, from the test process.

    Records the document the first time it is seen published; every later reading must be that
    same document (same ETag, same content) or a revocation of it.
    """

    def __init__(self, store: Store, version: str) -> None:
        self.store = store
        self.key = version_key(PACKAGE, version)
        self.published: tuple[str, dict[str, Any]] | None = None
        self.changes: list[str] = []
        self.readings = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.read()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.read()
            time.sleep(0.002)

    def read(self) -> None:
        document = self.store.read_document(self.key)
        self.readings += 1
        if document is None or document.data.get("status") != VersionStatus.PUBLISHED.value:
            if self.published is not None and (document is None or document.data.get("status") == "draft"):
                self.changes.append(f"published, then read as {document and document.data.get('status')}")
            return
        if self.published is None:
            self.published = (document.etag, document.data)
        elif (document.etag, document.data) != self.published:
            self.changes.append(f"published document changed: {self.published} -> {document}")


def _publish(store: Store, version: str, image_id: str = FIRST_IMAGE, release: bool = False) -> None:
    request = operations.PublishRequest(PACKAGE, version, PackageType.ECS_IMAGE, {"cn-hangzhou": image_id})
    operations.publish(store, request)
    if release:
        operations.release(store, PACKAGE, version)


def _stagger(rng: random.Random, count: int, spread: float) -> list[float]:
    return [0.0 if spread == 0 else rng.uniform(0, spread) for _ in range(count)]


# ------------------------------------------------------------------ 1. releases of one draft


def test_racing_releases_publish_the_draft_once(env: CatalogEnv, tmp_path: Path) -> None:
    store = env.store()
    _publish(store, "1.1.0")
    racers = [Racer(("release", PACKAGE, "1.1.0"))] * 6
    with Watcher(store, "1.1.0") as watcher:
        outcomes = race(env, racers, tmp_path / "race")
    winners = [o for o in outcomes if o.exit_code == 0]
    losers = [o for o in outcomes if o.exit_code != 0]
    assert winners, outcomes
    if env.kind == "local":
        assert len(winners) == 1, outcomes
    for winner in winners:
        assert winner.stdout == f"released {PACKAGE} 1.1.0: available in cn-hangzhou\n"
    for loser in losers:
        assert loser.exit_code == 1
        assert f"{PACKAGE} 1.1.0 is published, not a draft; only a draft is released" in loser.stderr
    assert not watcher.changes
    assert watcher.published is not None
    final = require_version(store, PACKAGE, "1.1.0")
    assert final.value.status is VersionStatus.PUBLISHED and final.value.published_at
    assert final.value.source.image_id == FIRST_IMAGE
    assert (final.etag, final.value.to_json()) == watcher.published

    # Later attempts change nothing: another release, a replacement, a publish over it.
    again = env.cli("release", PACKAGE, "1.1.0")
    assert again.exit_code == 1 and "not a draft" in again.stderr
    replace = ("publish", PACKAGE, "1.1.0", "--type", "ecs-image", "--image", f"cn-hangzhou={image(1)}")
    for args in (replace, (*replace, "--replace-draft")):
        refused = env.cli(*args)
        assert refused.exit_code == 1 and "a published version is never replaced" in refused.stderr
    after = store.read_document(version_key(PACKAGE, "1.1.0"))
    assert after is not None and (after.etag, after.data) == watcher.published


# ------------------------------------------------------------------ 2. replace-draft against release


@pytest.mark.parametrize("spread", [0.0, 0.06])
def test_replace_draft_racing_release_never_changes_a_published_version(
    env: CatalogEnv, tmp_path: Path, spread: float
) -> None:
    store = env.store()
    _publish(store, "2.0.0")
    rng = random.Random(f"replace-{spread}")
    publish = ("publish", PACKAGE, "2.0.0", "--type", "ecs-image")
    replacers = [
        Racer((*publish, "--image", f"cn-hangzhou={image(n)}", "--replace-draft"), delay)
        for n, delay in enumerate(_stagger(rng, 4, spread))
    ]
    releaser = Racer(("release", PACKAGE, "2.0.0"), _stagger(rng, 1, spread)[0])
    with Watcher(store, "2.0.0") as watcher:
        outcomes = race(env, [releaser, *replacers], tmp_path / "race")
    released, replaced = outcomes[0], outcomes[1:]

    # The release always goes through: a replacement that wins first is merged into it (re-read).
    assert released.exit_code == 0, released
    assert not watcher.changes, watcher.changes
    assert watcher.published is not None
    final = require_version(store, PACKAGE, "2.0.0")
    assert final.value.status is VersionStatus.PUBLISHED
    assert (final.etag, final.value.to_json()) == watcher.published

    # What was published is the first draft or a replacement that reported success.
    succeeded = {o.args[len(publish) + 1].partition("=")[2] for o in replaced if o.exit_code == 0}
    assert final.value.source.image_id in {FIRST_IMAGE, *succeeded}
    if final.value.source.image_id != FIRST_IMAGE:
        assert final.value.source.image_id in succeeded
    for outcome in replaced:
        if outcome.exit_code == 0:
            assert outcome.stdout.startswith(f"replaced draft {PACKAGE} 2.0.0"), outcome
        else:
            assert outcome.exit_code == 1
            assert (
                "already published; a published version is never replaced" in outcome.stderr
                or "was written by another publisher first; nothing was changed" in outcome.stderr
            ), outcome


# ------------------------------------------------------------------ 3. promotions onto one channel


def test_racing_promotions_leave_channel_and_history_in_agreement(env: CatalogEnv, tmp_path: Path) -> None:
    store = env.store()
    versions = [f"3.0.{n}" for n in range(6)]
    for n, version in enumerate(versions):
        _publish(store, version, image(n), release=True)
    rng = random.Random("promote")
    history: list[str] = []
    # Round 0 creates the channel (If-None-Match); the later rounds replace it (If-Match).
    for round_, spread in enumerate((0.0, 0.03)):
        delays = _stagger(rng, len(versions), spread)
        racers = [Racer(("promote", PACKAGE, v, "--channel", "dev"), d) for v, d in zip(versions, delays, strict=True)]
        outcomes = race(env, racers, tmp_path / f"round{round_}")
        winners = [o.args[2] for o in outcomes if o.exit_code == 0]
        assert winners, outcomes
        for outcome in outcomes:
            if outcome.exit_code == 0:
                assert outcome.stdout == f"{PACKAGE}#dev → {outcome.args[2]}\n"
            else:
                assert outcome.exit_code == 1
                assert "channel 'dev' of web-image changed while promoting; nothing was changed" in outcome.stderr
                assert "rerun the promotion" in outcome.stderr
        channel = read_channel(store, PACKAGE, "dev")
        assert channel is not None
        recorded = [entry.version for entry in channel.value.history]
        added = recorded[len(history) :]
        assert recorded[: len(history)] == history, "earlier history was rewritten"
        assert sorted(added) == sorted(winners), (added, outcomes)
        assert channel.value.version == recorded[-1] == added[-1]
        history = recorded


# ------------------------------------------------------------------ 4. revoke against release


@pytest.mark.parametrize("spread", [0.0, 0.06])
def test_revoke_racing_release_ends_revoked(env: CatalogEnv, tmp_path: Path, spread: float) -> None:
    store = env.store()
    _publish(store, "4.0.0")
    rng = random.Random(f"revoke-{spread}")
    delays = _stagger(rng, 4, spread)
    racers = [
        Racer(("revoke", PACKAGE, "4.0.0", "--reason", "CVE-2026-0002 in the base image"), delays[0]),
        *(Racer(("release", PACKAGE, "4.0.0"), d) for d in delays[1:]),
    ]
    with Watcher(store, "4.0.0") as watcher:
        outcomes = race(env, racers, tmp_path / "race")
    revoked, releases = outcomes[0], outcomes[1:]
    assert revoked.exit_code == 0, revoked
    assert revoked.stdout.startswith(f"revoked {PACKAGE} 4.0.0 at ")
    final = require_version(store, PACKAGE, "4.0.0").value
    assert final.status is VersionStatus.REVOKED
    assert final.revoked_reason == "CVE-2026-0002 in the base image" and final.revoked_at
    assert final.source.image_id == FIRST_IMAGE
    released = [o for o in releases if o.exit_code == 0]
    for outcome in releases:
        if outcome.exit_code != 0:
            assert outcome.exit_code == 1
            assert "is revoked, not a draft" in outcome.stderr or "is published, not a draft" in outcome.stderr, outcome
    if released:
        # Released first, then revoked: the revocation kept the publication's record.
        assert final.published_at is not None
        assert watcher.published is not None
        assert watcher.published[1]["published_at"] == final.published_at
    else:
        # Revoked while a draft: it was never published, and no release may publish it later.
        assert final.published_at is None
        assert watcher.published is None
        assert all("is revoked, not a draft" in o.stderr for o in releases)
    assert not watcher.changes, watcher.changes
    again = env.cli("release", PACKAGE, "4.0.0")
    assert again.exit_code == 1 and "is revoked, not a draft" in again.stderr
