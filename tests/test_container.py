"""The container image: the Dockerfile built by buildah and started as the image says.

There is no Docker engine and no Docker Hub here, so the test makes its own stand-in for
`python:3.11-slim`: a Debian bookworm minbase rootfs from debootstrap with python3 and
python3-venv, imported into a private buildah store under the name the Dockerfile's FROM
resolves to. The Dockerfile is then built unchanged (`buildah bud --pull=never`), and the
image's CMD is started under the image's USER, WORKDIR and ENV (`buildah run` honours those
but not CMD, so the command is read from the image's config). The debootstrap rootfs is cached
outside the repository, per suite and package list, so only the first run pays for it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from PIL import Image, ImageDraw

from app.config import PROJECT_ROOT
from bench.server import free_port
from tests.conftest import png_bytes

pytestmark = pytest.mark.slow

SUITE = "bookworm"  # python:3.11-slim is Debian bookworm with CPython 3.11; so is this base
MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv")
ROOTFS_RECIPE = "1"  # bump when _debootstrap changes, so that cached tarballs are remade
BASE_IMAGE = "docker.io/library/python:3.11-slim"  # what `FROM python:3.11-slim` resolves to
BASE_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8")
IMAGE = "localhost/lantern:container-test"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
PIP_NETWORK_KEYS = {"index-url", "extra-index-url", "trusted-host", "cert", "proxy"}
READY_WITHIN_S = 180
MAX_IMAGE_BYTES = 700 * 1024 * 1024


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (apt-get install {tool}; .ci/run installs it)")
    return path


def _run(argv: list[str], timeout: float, **options: Any) -> str:
    """Run a command; on failure, fail the test with the command and the end of its output."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **options)
    if done.returncode != 0:
        output = (done.stdout + done.stderr)[-4000:]
        pytest.fail(f"{' '.join(argv[:6])} ... exited {done.returncode}:\n{output}")
    return done.stdout


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lantern-test"


# ---- the stand-in base image -----------------------------------------------------------------


def _pip_network_config() -> dict[str, str]:
    """The host's pip settings for reaching PyPI (index, CA bundle, proxy; PIP_* included).

    Settings naming host-only places (file:// indexes, find-links, constraints) stay out: they
    do not exist inside the build.
    """
    listed = _run([sys.executable, "-m", "pip", "config", "list"], timeout=60)
    settings = {}
    for key, value in re.findall(r"^[^.\s]*\.([\w-]+)='(.*)'$", listed, flags=re.MULTILINE):
        if key in PIP_NETWORK_KEYS and "file:" not in value:
            settings[key] = value
    return settings


def _debootstrap(rootfs: Path) -> None:
    _run(
        [
            _require("debootstrap"),
            "--variant=minbase",
            f"--include={','.join(BASE_PACKAGES)}",
            SUITE,
            str(rootfs),
            MIRROR,
        ],
        timeout=900,
    )
    for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / leftovers).glob("*"):
            if path.is_file():
                path.unlink()
    (rootfs / "usr/bin/python").symlink_to("python3")  # as in python:3.11-slim


def _base_rootfs_tarball(workdir: Path) -> Path:
    """The debootstrap rootfs as a tarball, from the cache or made now (a minute or two)."""
    arch = _run(["dpkg", "--print-architecture"], timeout=30).strip()
    recipe = " ".join([ROOTFS_RECIPE, MIRROR, *BASE_PACKAGES])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    tarball = _cache_dir() / f"debian-{SUITE}-minbase-{arch}-{key}.tar"
    if tarball.is_file():
        return tarball
    rootfs = workdir / "rootfs"
    _debootstrap(rootfs)
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(f".{os.getpid()}.partial")
    _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], timeout=300)
    partial.replace(tarball)
    shutil.rmtree(rootfs)
    return tarball


# ---- buildah in a private store --------------------------------------------------------------


@dataclass
class Buildah:
    """buildah with its own storage under `workdir`, so the host's store is never touched."""

    workdir: Path
    executable: str = field(default_factory=lambda: _require("buildah"))

    def argv(self, *args: str) -> list[str]:
        store = ["--root", str(self.workdir / "root"), "--runroot", str(self.workdir / "runroot")]
        return [self.executable, *store, "--storage-driver", "overlay", *args]

    def __call__(self, *args: str, timeout: float = 120) -> str:
        return _run(self.argv(*args), timeout=timeout)

    def inspect_image(self, image: str) -> dict[str, Any]:
        return json.loads(self("inspect", "--type", "image", image))

    def clean_up(self) -> None:
        """Remove every container and image of the private store, unmount it, delete it."""
        for args in (["rm", "--all"], ["rmi", "--all", "--force"]):
            subprocess.run(self.argv(*args), capture_output=True, timeout=120)
        mounts = Path("/proc/self/mounts").read_text().splitlines()
        points = [line.split()[1] for line in mounts]
        for point in sorted(points, key=len, reverse=True):
            if point.startswith(f"{self.workdir}/"):
                subprocess.run(["umount", "-l", point], capture_output=True, timeout=60)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _import_base_image(buildah: Buildah, tarball: Path) -> None:
    """Commit the rootfs as python:3.11-slim, trusting the host's CA bundle as the host does."""
    overlay = buildah.workdir / "base-overlay"
    pip = _pip_network_config()
    for bundle in {HOST_CA_BUNDLE, Path(pip.get("cert", HOST_CA_BUNDLE))}:
        (overlay / bundle.relative_to("/")).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle, overlay / bundle.relative_to("/"))
    pip_conf = "[global]\n" + "".join(f"{key} = {value}\n" for key, value in pip.items())
    (overlay / "etc/pip.conf").write_text(pip_conf)
    container = buildah("from", "scratch").strip()
    buildah("add", container, str(tarball), "/", timeout=300)
    buildah("copy", container, str(overlay), "/")
    config = [arg for env in BASE_ENV for arg in ("--env", env)]
    buildah("config", *config, "--cmd", "python3", container)
    buildah("commit", "--rm", container, BASE_IMAGE, timeout=300)


@pytest.fixture(scope="module")
def buildah() -> Iterator[Buildah]:
    _require("debootstrap")
    store = Buildah(Path(tempfile.mkdtemp(prefix="lantern-container-test-")))
    try:
        yield store
    finally:
        store.clean_up()


@pytest.fixture(scope="module")
def image(buildah: Buildah) -> dict[str, Any]:
    """The Dockerfile built on the stand-in base; returns `buildah inspect` of the image."""
    _import_base_image(buildah, _base_rootfs_tarball(buildah.workdir))
    buildah(
        "bud",
        "--isolation=chroot",
        "--pull=never",
        "--format=docker",  # OCI images have no HEALTHCHECK: buildah would drop it
        "--tag",
        IMAGE,
        "--file",
        str(PROJECT_ROOT / "Dockerfile"),
        str(PROJECT_ROOT),
        timeout=900,
    )
    return buildah.inspect_image(IMAGE)


# ---- the running container -------------------------------------------------------------------


@dataclass
class Server:
    """The image's CMD running under `buildah run`; `pid` is the app process itself."""

    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_path: Path
    port: int
    pid: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM to the app (a signal to buildah would kill it hard); buildah's exit code."""
        if self.process.poll() is None and self.pid:
            os.kill(self.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            for pid in (self.pid, self.process.pid):
                if pid and Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGKILL)
            return self.process.wait(timeout=60)
        finally:
            self.log.close()


def _descendants(root: int) -> list[int]:
    parents = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = re.search(r"^PPid:\s+(\d+)", status.read_text(), re.MULTILINE)
        except OSError:  # the process ended while we looked
            continue
        if ppid:
            parents[int(status.parent.name)] = int(ppid.group(1))
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, ppid in parents.items() if ppid in frontier]
        found += children
        frontier = children
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def _app_pid(server: Server, cmd: list[str]) -> int:
    """The process running the CMD (its argv[0] resolved on PATH) among buildah's descendants."""
    for pid in _descendants(server.process.pid):
        argv = _cmdline(pid)
        if argv and Path(argv[0]).name == Path(cmd[0]).name and argv[1:] == cmd[1:]:
            return pid
    return 0


def _wait_until_ready(server: Server, cmd: list[str]) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the container exited {server.process.returncode}:\n{server.output()}")
        server.pid = server.pid or _app_pid(server, cmd)
        try:
            with urllib.request.urlopen(server.url("/health/ready"), timeout=5) as answer:
                if answer.status == 200 and server.pid:
                    return
        except OSError:  # not listening yet, or 503 while loading (HTTPError)
            pass
        time.sleep(0.5)
    pytest.fail(f"not ready within {READY_WITHIN_S} s:\n{server.output()}")


def _config(image: dict[str, Any]) -> dict[str, Any]:
    return image["Docker"]["config"]


@pytest.fixture(scope="module")
def container(buildah: Buildah, image: dict[str, Any]) -> str:
    """A working container of the image (removed with the private store)."""
    return buildah("from", "--pull=never", "--name", "lantern-under-test", IMAGE).strip()


@pytest.fixture(scope="module")
def server(buildah: Buildah, image: dict[str, Any], container: str) -> Iterator[Server]:
    cmd = _config(image)["Cmd"]
    port = free_port()
    log_path = buildah.workdir / "server.log"
    log = log_path.open("wb")
    argv = buildah.argv(
        "run", "--isolation=chroot", "--env", f"LANTERN_PORT={port}", container, "--", *cmd
    )
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    running = Server(process, log, log_path, port)
    try:
        _wait_until_ready(running, cmd)
        yield running
    finally:
        if not running.log.closed:
            running.stop()


def _post_png(server: Server, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        server.url(path), data=body, headers={"content-type": "image/png"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _drawn_one() -> bytes:
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(150, 40), (140, 240)], fill=(0, 0, 0, 255), width=18)
    return png_bytes(canvas)


def _healthcheck(buildah: Buildah, image: dict[str, Any], container: str, port: int) -> int:
    """The image's HEALTHCHECK command run in a second container process; its exit code."""
    kind, *argv = _config(image)["Healthcheck"]["Test"]
    assert kind == "CMD", "the HEALTHCHECK should be exec form"
    check = buildah.argv(
        "run", "--isolation=chroot", "--env", f"LANTERN_PORT={port}", container, "--"
    )
    return subprocess.run([*check, *argv], capture_output=True, timeout=60).returncode


# ---- the tests -------------------------------------------------------------------------------


def test_the_image_runs_the_app_as_a_non_root_user_listening_on_all_interfaces(image):
    config = _config(image)
    assert config["Cmd"] == ["python", "-m", "app"]
    assert config["User"].split(":")[0] not in ("", "0", "root")
    assert config["WorkingDir"] == "/app"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["LANTERN_HOST"] == "0.0.0.0"
    assert env["LANTERN_MODEL_STORE"] == "/app/model_store"


def test_the_image_keeps_its_healthcheck_on_readiness(image):
    healthcheck = _config(image)["Healthcheck"]
    assert healthcheck["Test"][0] == "CMD"
    assert "/health/ready" in " ".join(healthcheck["Test"])
    assert healthcheck["Interval"] > 0 and healthcheck["Retries"] >= 1


def test_the_image_carries_no_torch_and_stays_small(buildah, container):
    size = buildah("images", "--format", "{{.Size}}", IMAGE).strip()  # e.g. "429 MB"
    number, unit = re.fullmatch(r"([\d.]+)\s*([kMG]?B)", size).groups()
    assert float(number) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit] < MAX_IMAGE_BYTES
    probe = "import importlib.util as u; assert u.find_spec('torch') is None"
    buildah("run", "--isolation=chroot", container, "--", "python", "-c", probe)


def test_the_container_serves_the_baked_in_store_and_reads_a_drawn_one(server):
    assert (PROJECT_ROOT / "model_store" / "mnist_cnn").is_dir(), "model_store/ has no mnist_cnn"
    with urllib.request.urlopen(server.url("/models"), timeout=10) as answer:
        models = json.load(answer)
    assert models["refused"] == {}
    assert "mnist_cnn" in {model["name"] for model in models["models"]}
    status, body = _post_png(server, "/predict?model=mnist_cnn&top_k=10", _drawn_one())
    assert status == 200, body
    assert body["model"] == "mnist_cnn"
    assert sorted(p["label"] for p in body["predictions"]) == [str(d) for d in range(10)]
    assert sum(p["probability"] for p in body["predictions"]) == pytest.approx(1.0, abs=1e-3)
    assert body["predictions"][0]["label"] == "1"


def test_the_server_process_runs_as_the_images_user(server, image):
    uid = int(_config(image)["User"].split(":")[0])
    status = Path(f"/proc/{server.pid}/status").read_text()
    real, effective, saved, filesystem = re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()
    assert {int(real), int(effective), int(saved), int(filesystem)} == {uid}
    assert uid != 0


def test_the_healthcheck_passes_on_the_server_and_fails_where_none_listens(
    buildah, image, container, server
):
    assert _healthcheck(buildah, image, container, server.port) == 0
    assert _healthcheck(buildah, image, container, free_port()) != 0


def test_sigterm_to_the_app_shuts_it_down_gracefully(server):
    assert server.stop() == 0, server.output()[-4000:]
    assert "Application shutdown complete" in server.output()
    assert not Path(f"/proc/{server.pid}").exists()
