"""Compiled bytecode for the Lambda runtime's Python, added to function and layer packages.

Lambda's /var/task and /opt are read-only, and `serverless.yml` keeps developers' __pycache__
out of the zips, so without this every cold start compiles every module it imports. Each
`X.py` gets `__pycache__/X.cpython-311.pyc` beside it, compiled by the runtime's Python
version with `unchecked-hash` invalidation: zips keep no usable modification time (the
Serverless Framework stamps every entry 1980-01-01), and the package never changes after it
is built, so the interpreter must trust the .pyc without comparing it with its source.

    python3 infra/serverless/bytecode.py [--runtime python3.11] [--prefix /var/task] PATH...

PATH is a .zip (rewritten in place when something is missing; entries keep their order and
dates) or a folder (compiled where it stands). `--prefix` is the folder the package is
unpacked to, named in tracebacks. Any Python 3 may run this: when it is not the runtime's
version, it runs itself again with $QUARRY_PYTHON, the project's .venv or `python3.X`.
Standard library only.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = "python3.11"
UNCHECKED_HASH = 0b01  # the .pyc flags: hash-based (bit 0), source not checked (bit 1 clear)


def runtime_version(runtime: str) -> tuple[int, int]:
    """`python3.11` → (3, 11)."""
    major, _, minor = runtime.removeprefix("python").partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise SystemExit(f"error: runtime {runtime!r} is not a Python runtime such as python3.11")
    return int(major), int(minor)


def interpreter(version: tuple[int, int]) -> str | None:
    """A Python of `version` on this machine, to compile with."""
    wanted = f"python{version[0]}.{version[1]}"
    candidates = [os.environ.get("QUARRY_PYTHON", ""), str(ROOT / ".venv" / "bin" / "python")]
    candidates.append(shutil.which(wanted) or "")
    for candidate in filter(None, candidates):
        if Path(candidate).is_file() and os.access(candidate, os.X_OK):
            probe = f"import sys; sys.exit(sys.version_info[:2] != {version!r})"
            if subprocess.run([candidate, "-c", probe], check=False).returncode == 0:
                return candidate
    return None


def cache_path(source: str) -> str:
    """`shared/x.py` → `shared/__pycache__/x.cpython-311.pyc` (this interpreter's tag)."""
    path = PurePosixPath(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")


def _compile(source: Path, cfile: Path, dfile: str) -> None:
    py_compile.compile(
        str(source),
        cfile=str(cfile),
        dfile=dfile,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def is_current(pyc: bytes, source: bytes) -> bool:
    """`pyc` is this interpreter's unchecked hash-based bytecode of `source`."""
    return (
        pyc[:4] == importlib.util.MAGIC_NUMBER
        and int.from_bytes(pyc[4:8], "little") == UNCHECKED_HASH
        and pyc[8:16] == importlib.util.source_hash(source)
    )


def add_to_zip(path: Path, prefix: str) -> int:
    """Give every module of the zip current bytecode; the number compiled. A .pyc already
    there stays only when it is current (a layer built by build-layer.sh); any other (a
    developer's, checked by mtime or of another version) is dropped or replaced."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        entries = {i.filename: i for i in infos}
        sources = [i for i in infos if i.filename.endswith(".py")]
        keep = {
            cache_path(i.filename)
            for i in sources
            if cache_path(i.filename) in entries
            and is_current(zf.read(cache_path(i.filename)), zf.read(i))
        }
        missing = [i for i in sources if cache_path(i.filename) not in keep]
        stale = [i for i in infos if i.filename.endswith(".pyc") and i.filename not in keep]
        if not missing and not stale:
            return 0
        with tempfile.TemporaryDirectory(prefix="quarry-bytecode-") as tmp:
            compiled: list[tuple[zipfile.ZipInfo, Path]] = []
            for info in missing:
                source = Path(tmp) / "src" / info.filename
                source.parent.mkdir(parents=True, exist_ok=True)
                source.write_bytes(zf.read(info))
                cfile = Path(tmp) / "pyc" / cache_path(info.filename)
                cfile.parent.mkdir(parents=True, exist_ok=True)
                _compile(source, cfile, f"{prefix.rstrip('/')}/{info.filename}")
                entry = zipfile.ZipInfo(cache_path(info.filename), date_time=info.date_time)
                entry.external_attr = 0o644 << 16
                entry.compress_type = zipfile.ZIP_DEFLATED
                compiled.append((entry, cfile))
            rewritten = path.with_name(path.name + ".tmp")
            dropped = {i.filename for i in stale}
            with zipfile.ZipFile(rewritten, "w") as out:
                for info in infos:
                    if info.filename not in dropped:
                        out.writestr(info, zf.read(info))
                for entry, cfile in sorted(compiled, key=lambda pair: pair[0].filename):
                    out.writestr(entry, cfile.read_bytes())
    rewritten.replace(path)
    return len(missing)


def add_to_folder(path: Path, prefix: str) -> int:
    """Compile every module under the folder, beside its source; the number of modules."""
    if not compileall.compile_dir(
        str(path),
        ddir=prefix,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    ):
        raise SystemExit(f"error: a module under {path} does not compile")
    return sum(1 for _ in path.rglob("*.py"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", default=RUNTIME, help="Lambda runtime, e.g. python3.11")
    parser.add_argument("--prefix", default="/var/task", help="where the package is unpacked")
    parser.add_argument("paths", nargs="+", type=Path, help=".zip files or folders")
    args = parser.parse_args(argv)
    version = runtime_version(args.runtime)
    if sys.version_info[:2] != version:
        python = interpreter(version)
        if python is None:
            raise SystemExit(
                f"error: bytecode for {args.runtime} needs Python {version[0]}.{version[1]}: "
                "set QUARRY_PYTHON, or install it (`make dev` makes the project's .venv)"
            )
        os.execv(python, [python, __file__, *argv])
    for path in args.paths:
        if path.is_dir():
            count = add_to_folder(path, args.prefix)
        elif zipfile.is_zipfile(path):
            count = add_to_zip(path, args.prefix)
        else:
            raise SystemExit(f"error: {path} is neither a folder nor a zip file")
        print(f"{path.name}: bytecode for {args.runtime} ({count} modules compiled)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
