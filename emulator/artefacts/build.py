"""`quarry package`: the layer (infra/serverless/build-layer.sh) and `serverless package`, run
only when what they are built from changed, then unpacked as Lambda unpacks them: each
function to its own read-only folder (/var/task), the layer to another (/opt)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS = ROOT / "infra" / "serverless"
CLI = SERVERLESS / "node_modules" / "serverless" / "bin" / "serverless.js"
LAYER = SERVERLESS / "layer"
SWAGGER_UI = ROOT / "infra" / "swagger-ui" / "node_modules" / "swagger-ui-dist"
STAGE, REGION = "dev", "us-east-1"
STAMP = "quarry-package.json"
# What the packages are built from: the code the patterns of serverless.yml can reach, the
# table, the packaging plugins, the layer's manifest and this builder.
SOURCES = ("functions", "shared", "dashboard")
FILES = (
    "serverless.yml",
    "openapi.json",
    "emulator/artefacts/build.py",
    "infra/serverless/bytecode.py",
    "infra/serverless/bytecode.js",
    "infra/serverless/offline-package.js",
    "infra/serverless/package-lock.json",
    "infra/serverless/build-layer.sh",
    "infra/serverless/layer/requirements.txt",
    "infra/swagger-ui/package-lock.json",  # the docs function's Swagger UI assets
)
Say = Callable[[str], None]


@dataclass(frozen=True)
class Built:
    """A package folder: the zips and template `serverless package` wrote, unpacked beside
    them; `reused` when nothing changed since the last build."""

    folder: Path
    digest: str
    reused: bool

    @property
    def template(self) -> Path:
        return self.folder / "cloudformation-template-update-stack.json"

    @property
    def unpacked(self) -> Path:
        return self.folder / "unpacked"


def _files(root: Path) -> Iterator[Path]:
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield path
    for name in FILES:
        yield root / name


def digest_of(root: Path = ROOT) -> str:
    """A hash of every input of the packages (paths and contents)."""
    h = hashlib.sha256()
    for path in _files(root):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(path.read_bytes() if path.exists() else b"(missing)")
        h.update(b"\0")
    return h.hexdigest()


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-3000:]
        raise ConfigError(f"{what} failed (exit {done.returncode}):\n{tail}")


def build_layer(say: Say) -> None:
    """infra/serverless/layer/python from the committed requirements, when they changed."""
    requirements = (LAYER / "requirements.txt").read_bytes()
    stamp = LAYER / ".built.sha256"  # beside python/, so not in the layer's zip
    wanted = hashlib.sha256(requirements).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == wanted and (LAYER / "python").is_dir():
        return
    say("building the dependencies layer (infra/serverless/build-layer.sh)…")
    _run(["bash", str(SERVERLESS / "build-layer.sh")], "infra/serverless/build-layer.sh")
    stamp.write_text(wanted + "\n")


def _serverless_env(home: Path) -> dict[str, str]:
    """`serverless package` with no AWS account: dummy credentials, and the offline plugin
    failing any AWS call (infra/serverless/offline-package.js)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": "AKIAQUARRYOFFLINE000",
        "AWS_SECRET_ACCESS_KEY": "offline-packaging-only",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "QUARRY_SLS_OFFLINE": "1",
        "SLS_TELEMETRY_DISABLED": "1",
        "SLS_NOTIFICATIONS_MODE": "off",
    }


def serverless_package(out: Path, say: Say) -> None:
    """`serverless package --package OUT` with the pinned CLI."""
    if shutil.which("node") is None or not CLI.is_file():
        raise ConfigError(
            "packaging needs the pinned Serverless Framework CLI: run `make serverless-cli` "
            "(Node.js and npm)"
        )
    if not SWAGGER_UI.is_dir():  # the docs function's assets: serverless would skip them
        raise ConfigError("the docs function packages Swagger UI's assets: run `make swagger-ui`")
    say("packaging every function (serverless package)…")
    home = out.with_name(out.name + ".home")
    home.mkdir(parents=True, exist_ok=True)
    argv = ["node", str(CLI), "package", "--stage", STAGE, "--region", REGION]
    _run([*argv, "--package", str(out)], "serverless package", _serverless_env(home))
    shutil.rmtree(home, ignore_errors=True)


def _read_only(folder: Path) -> None:
    """As Lambda's /var/task and /opt: nothing in them can be written (by a non-root user)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    folder.chmod(0o555)


def _writable(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def unpack(folder: Path) -> None:
    """Each zip of the package unpacked to `unpacked/<zip name>`, read-only."""
    target = folder / "unpacked"
    for zip_path in sorted(folder.glob("*.zip")):
        dest = target / zip_path.stem
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(dest)
        _read_only(dest)


@contextlib.contextmanager
def exclusive(folder: Path) -> Iterator[None]:
    """Held while `folder` is built: a second process (another `quarry package`, `quarry up
    --aws`, a benchmark) waits, then finds it built, instead of writing it at the same time."""
    folder = folder.resolve()  # `--out .` locks beside the folder, too
    folder.parent.mkdir(parents=True, exist_ok=True)
    with folder.with_name(f".{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def package(out: Path, say: Say = lambda line: None, *, force: bool = False) -> Built:
    """Build the package into `out` (the layer, then `serverless package`, then unpacked),
    or reuse it when its inputs are unchanged since it was built; one process at a time."""
    with exclusive(out):
        return _package(out, say, force=force)


def _package(out: Path, say: Say, *, force: bool) -> Built:
    with exclusive(LAYER):  # shared by every package folder; always taken inside out's lock
        build_layer(say)
    digest = digest_of()
    stamp = out / STAMP
    if not force and stamp.is_file():
        recorded = json.loads(stamp.read_text())
        if recorded.get("digest") == digest and (out / "unpacked").is_dir():
            return Built(out, digest, reused=True)
    if out.exists():
        _writable(out)
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    serverless_package(out, say)
    say("unpacking the packages as Lambda does…")
    unpack(out)
    stamp.write_text(json.dumps({"digest": digest, "stage": STAGE, "region": REGION}) + "\n")
    return Built(out, digest, reused=False)
