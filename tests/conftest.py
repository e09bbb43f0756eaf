"""Shared fixtures: real catalog files in tmp_path, real CSV/JSON files on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from metastore import Catalog

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def cat(tmp_path) -> Catalog:
    return Catalog(tmp_path / "c.duckdb")


@pytest.fixture
def run_cli(tmp_path):
    """Run the real console entry point in a subprocess; returns CompletedProcess."""

    def run(*args, db=None, cwd=None, input=None, env=None):
        full_env = {**os.environ, **(env or {})}
        cmd = [sys.executable, "-c", "from metastore.cli import main; main()", "--db", str(db or tmp_path / "c.duckdb"),
               *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or tmp_path, input=input, env=full_env)

    return run


# -- the I/O-fault layer (issue 14): a small file system that fills up, and read-only folders ------
def _mount(args: list[str]) -> str | None:
    """Run mount; None when it worked, else why not (tests skip with that reason)."""
    try:
        r = subprocess.run(["mount", *args], capture_output=True, text=True)
    except FileNotFoundError:
        return "no mount command"
    return None if r.returncode == 0 else (r.stderr.strip() or f"mount exited {r.returncode}")


@pytest.fixture
def small_fs(tmp_path):
    """``small_fs(bytes)`` → a fresh folder on a tmpfs of that size (disk full for real). Needs root
    (CI runs as root); skips with the reason where mounting is not permitted."""
    mounted: list[Path] = []

    def make(size: int) -> Path:
        where = tmp_path / f"small-fs-{len(mounted)}"
        where.mkdir()
        why = _mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)])
        if why:
            pytest.skip(f"cannot mount a small tmpfs here ({why})")
        mounted.append(where)
        return where

    yield make
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def readonly_dir():
    """``with readonly_dir(folder):`` the folder is a read-only bind mount of itself (root ignores
    permission bits, so chmod would prove nothing); skips where mounting is not permitted."""
    from contextlib import contextmanager

    @contextmanager
    def ro(folder: Path):
        why = _mount(["--bind", str(folder), str(folder)])
        if why:
            pytest.skip(f"cannot bind-mount here ({why})")
        try:
            why = _mount(["-o", "remount,bind,ro", str(folder)])
            if why:
                pytest.skip(f"cannot remount read-only here ({why})")
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)

    return ro


# -- a real local Spark (issue 17): one session for the whole run ---------------------------------
def _spark_missing() -> str | None:
    import importlib.util
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark():
    """A local[1] SparkSession shared by every Spark test (a start costs ~5-10 s). The JVM's own
    zone is deliberately not UTC (Asia/Kathmandu, +05:45); tests set the session zone they mean."""
    why = _spark_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"Spark tests cannot run under CI: {why}")
        pytest.skip(why)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    jvm = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Duser.timezone=Asia/Kathmandu"
    session = (SparkSession.builder.master("local[1]").appName("metastore-tests")
               .config("spark.driver.extraJavaOptions", jvm)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.default.parallelism", "1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def open_tmp():
    """A fresh folder that an unprivileged user can reach (pytest's base folder is 0700 and is
    reset by every pytest run on the machine); removed afterwards."""
    import shutil
    import tempfile

    where = Path(tempfile.mkdtemp(prefix="metastore-test-"))
    os.chmod(where, 0o755)
    yield where
    for root, dirs, _ in os.walk(where):
        for d in dirs:
            try:
                os.chmod(os.path.join(root, d), 0o755)
            except OSError:
                pass
    shutil.rmtree(where, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_warm_catalog_between_tests():
    """Each test starts with no catalog kept warm by an earlier test (warm reads keep a catalog
    attached in this process between operations; a test must not see another test's catalogs)."""
    from metastore.store import warm

    warm.release_idle()
    yield
    warm.release_idle()


#: The modules of the language and the tables (parser, checker, compiler, operators, type rows, globs,
#: dialects, inference, sampling, argv, the one-place and layer checks): their in-process tests are
#: the `unit` tier, a few seconds. A few of them open a small catalog; none starts a process.
UNIT_MODULES = {"test_query_parser", "test_query_compiler", "test_operators", "test_type_rows", "test_glob_shape",
                "test_dialects", "test_infer", "test_sample", "test_generate", "test_cli_argv", "test_one_place",
                "test_layers", "test_normalize_keys"}


def pytest_collection_modifyitems(items):
    """Mark every test that starts a process (the CLI through `run_cli`, or a module that imports
    `subprocess`) `process`: `pytest -m "not slow and not process"` is the in-process tier (about a
    minute). Mark `unit` the in-process tests of UNIT_MODULES:
    `pytest -m unit` runs in seconds."""
    for item in items:
        module = getattr(item, "module", None)
        fixtures = getattr(item, "fixturenames", ())
        if "run_cli" in fixtures or hasattr(module, "subprocess"):
            item.add_marker(pytest.mark.process)
        if getattr(module, "__name__", "") in UNIT_MODULES and not item.get_closest_marker("process"):
            item.add_marker(pytest.mark.unit)
