"""The wheel is how Postmetric runs without Node: `python -m build` packs every module, the
migrations and the built tracker and dashboard, and that wheel, installed in a clean venv whose
PATH has no node or npm, serves the API, the script, the dashboard and ingestion.

The build runs once per module on a copy of the files it reads (the sdist, then the wheel from
the sdist, as `make wheel` does), so it leaves nothing in the repository. Installing the
dependencies from PyPI would take minutes, so the clean venv gets the wheel with `--no-deps` and,
through a .pth file, a directory of links to what the project's .venv has installed of the
wheel's declared dependencies and theirs, and nothing else: a module that imports a package only
the dev extras bring fails here as it would after `pip install`. The editable install of
postmetric in .venv is not among the links; the tests check that the postmetric found is the wheel's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb
import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from factories import CHROME_UA
from live_app import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "postmetric"
# What `make install` builds from tracker/ and dashboard/; the wheel must carry both.
BUILT_ASSETS = (PACKAGE / "static" / "js" / "script.js", PACKAGE / "static" / "dashboard" / "index.html")
# What the build reads: the sdist is made of these, and tests/ is there to show it stays out.
BUILD_INPUTS = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "src", "tests")
# Left in the tree by Python and by setuptools; copied, they would only slow the build down.
BUILD_DROPPINGS = ("__pycache__", "*.egg-info")
NODE_TOOLS = ("node", "npm", "npx")


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Installed:
    venv: Path
    python: Path
    postmetric: Path
    env: dict[str, str]  # PATH is the venv's bin alone; no POSTMETRIC_* setting leaks in from the test run


def run(*command: str | Path, **options) -> str:
    """What `command` printed; if it fails, the failure shows its output."""
    done = subprocess.run(command, capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{command} exited with {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


def package_files() -> set[str]:
    """Every file of src/postmetric as its name in the wheel, less bytecode and source maps."""
    return {path.relative_to(PACKAGE.parent).as_posix() for path in PACKAGE.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".map")}


def runtime_distributions() -> list[metadata.Distribution]:
    """The .venv's distributions that pyproject's dependencies need, with theirs, extras included."""
    found: dict[str, set[str]] = {}  # canonical name -> extras already followed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pending = [Requirement(line) for line in project["dependencies"]]
    while pending:
        requirement = pending.pop()
        name, extras = canonicalize_name(requirement.name), set(requirement.extras)
        if name in found and extras <= found[name]:
            continue
        found[name] = found.get(name, set()) | extras
        for line in metadata.requires(name) or []:
            dependency = Requirement(line)
            if not dependency.marker or any(dependency.marker.evaluate({"extra": extra}) for extra in {"", *extras}):
                pending.append(dependency)
    return [metadata.distribution(name) for name in found]


def link_runtime_dependencies(directory: Path) -> None:
    """Links in `directory` to every top-level file and folder (modules, packages, .dist-info)
    of the runtime distributions."""
    directory.mkdir()
    for distribution in runtime_distributions():
        site_packages = Path(distribution.locate_file(""))
        for top in {file.parts[0] for file in distribution.files or () if file.parts[0] != ".."}:
            link = directory / top
            if top != "__pycache__" and not link.exists():
                link.symlink_to(site_packages / top)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    missing = [str(path.relative_to(ROOT)) for path in BUILT_ASSETS if not path.is_file()]
    assert not missing, f"not built: {missing}; run `make install` (it builds the tracker and the dashboard)"
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns(*BUILD_DROPPINGS))
        else:
            shutil.copy2(ROOT / name, source / name)
    run(sys.executable, "-m", "build", "--quiet", "--outdir", out, source)
    [wheel], [sdist] = out.glob("postmetric-*.whl"), out.glob("postmetric-*.tar.gz")
    return Built(wheel=wheel, sdist=sdist)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory, derived_data_dir: Path) -> Installed:
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site_packages = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    link_runtime_dependencies(venv / "runtime-dependencies")
    (site_packages / "runtime-dependencies.pth").write_text(f"{venv / 'runtime-dependencies'}\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", built.wheel)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("POSTMETRIC_") and name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    # The geolocation database unpacks into the cache dir: the one shared by the suite saves ~0.5 s.
    env |= {"PATH": str(venv / "bin"), "POSTMETRIC_CACHE_DIR": str(derived_data_dir)}
    return Installed(venv=venv, python=python, postmetric=venv / "bin" / "postmetric", env=env)


def in_venv(installed: Installed, code: str) -> str:
    return run(installed.python, "-c", code, env=installed.env, cwd=installed.venv).strip()


def test_the_wheel_holds_every_module_the_migrations_and_the_built_assets_and_nothing_else(built):
    with zipfile.ZipFile(built.wheel) as wheel:
        shipped = {name for name in wheel.namelist() if not name.startswith("postmetric-")}  # less *.dist-info/
    expected = package_files()
    assert {"postmetric/static/js/script.js", "postmetric/static/dashboard/index.html",
            "postmetric/store/migrations/env.py", "postmetric/store/migrations/script.py.mako"} <= expected
    assert any(name.startswith("postmetric/store/migrations/versions/") for name in expected)
    assert any(name.startswith("postmetric/static/dashboard/assets/") for name in expected)
    assert sorted(expected - shipped) == [], "in src/postmetric but not in the wheel"
    assert sorted(shipped - expected) == [], "in the wheel but not a file of src/postmetric that ships"


def test_the_sdist_holds_the_package_with_its_built_assets_and_not_the_tests(built):
    with tarfile.open(built.sdist) as sdist:
        members = {member.name.split("/", 1)[1] for member in sdist.getmembers()
                   if member.isfile() and "/" in member.name}
    assert {f"src/{name}" for name in package_files()} <= members
    assert {"pyproject.toml", "README.md", "LICENSE"} <= members
    assert not [name for name in members if name.startswith("tests/") or "node_modules" in name]


def test_the_installed_wheel_is_the_postmetric_that_runs_and_declares_the_dependencies_of_pyproject(installed):
    found = json.loads(in_venv(installed, (
        "import importlib.metadata, json, postmetric\n"
        "dist = importlib.metadata.distribution('postmetric')\n"
        "print(json.dumps({'module': postmetric.__file__, 'dist': str(dist.locate_file('')),"
        " 'requires': dist.requires}))")))
    assert Path(found["module"]).is_relative_to(installed.venv)
    assert Path(found["dist"]).is_relative_to(installed.venv)

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {*project["dependencies"],
                *(f'{dependency}; extra == "{extra}"'
                  for extra, dependencies in project["optional-dependencies"].items() for dependency in dependencies)}
    assert sorted(map(str, map(Requirement, found["requires"]))) == sorted(map(str, map(Requirement, declared)))


def test_the_installed_wheel_serves_health_the_script_the_dashboard_and_ingestion_without_node(installed, tmp_path):
    assert [tool for tool in NODE_TOOLS if shutil.which(tool, path=installed.env["PATH"])] == []
    env = {**installed.env, "POSTMETRIC_DATA_DIR": str(tmp_path / "data")}
    static = Path(in_venv(installed, "import postmetric, pathlib; print(pathlib.Path(postmetric.__file__).parent)")
                  ) / "static"

    def cli(*args: str) -> dict:
        return json.loads(run(installed.postmetric, *args, env=env, cwd=tmp_path))

    cli("users", "create", "--email", "owner@example.com", "--password", "correct horse battery")
    site = cli("sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
    port, log = free_port(), tmp_path / "server.log"
    server = subprocess.Popen([installed.postmetric, "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            health = wait_for_health(client, server, log)
            assert health.status_code == 200

            script = client.get("/js/script.js")
            assert script.status_code == 200
            assert script.headers["content-type"].startswith("application/javascript")
            assert script.content == (static / "js" / "script.js").read_bytes() == BUILT_ASSETS[0].read_bytes()

            page = client.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert page.content == (static / "dashboard" / "index.html").read_bytes() == BUILT_ASSETS[1].read_bytes()
            entry = next((static / "dashboard" / "assets").glob("index-*.js"))
            asset = client.get(f"/assets/{entry.name}")
            assert asset.status_code == 200 and asset.content == entry.read_bytes()

            event = {"websiteId": site["public_id"], "type": "pageview", "href": "https://example.com/from-the-wheel"}
            ingested = client.post("/api/events", content=json.dumps(event),
                                   headers={"Content-Type": "text/plain", "User-Agent": CHROME_UA})
            assert ingested.status_code == 202 and "x-postmetric-dropped" not in ingested.headers
    finally:
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully (the write queue is flushed), then re-raises the signal it caught.
        assert server.wait(timeout=60) in (0, -signal.SIGTERM), log.read_text()[-2000:]
    with duckdb.connect(str(tmp_path / "data" / "events.duckdb"), read_only=True) as db:
        assert db.execute("SELECT pathname FROM events").fetchall() == [("/from-the-wheel",)]


def wait_for_health(client: httpx.Client, server: subprocess.Popen, log: Path) -> httpx.Response:
    """The first answer of /api/health, once the server listens; fails if it exits first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            return client.get("/api/health", timeout=1)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
