"""Build the one Lambda code zip: src/due plus its pinned runtime dependencies.

Reproducible: the same sources and requirements give a byte-identical zip
(entries sorted, timestamps fixed at 1980-01-01, permissions 0644, no
bytecode), so its SHA-256 identifies the code and goes into the S3 key,
which makes CloudFormation update functions exactly when the code changed.
boto3/botocore are provided by the Lambda runtime and never bundled.

Usage: python scripts/build_zip.py [--out DIR]   prints the zip's path and SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNTIME_REQUIREMENTS = REPO / "requirements" / "runtime.txt"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
NEVER_BUNDLED = ("boto3", "botocore", "s3transfer", "urllib3")
# The templates run on arm64 (Graviton) with Python 3.13.
LAMBDA_PLATFORM = ["--platform", "manylinux2014_aarch64", "--implementation", "cp",
                   "--python-version", "3.13", "--only-binary=:all:"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def install_dependencies(build_dir: Path) -> Path:
    """Install the runtime requirements once per requirements content (cached in build/)."""
    key = hashlib.sha256(RUNTIME_REQUIREMENTS.read_bytes()).hexdigest()[:16]
    target = build_dir / f"deps-{key}"
    if (target / ".complete").exists():
        return target
    # Installed beside the target and renamed into place, so a concurrent build never sees half of it.
    staging = Path(tempfile.mkdtemp(prefix="deps-", dir=build_dir))
    result = subprocess.run(  # noqa: S603 (a fixed argument list: this interpreter running pip)
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-compile", "--target", str(staging), *LAMBDA_PLATFORM, "-r", str(RUNTIME_REQUIREMENTS)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise SystemExit(f"build_zip: pip could not install the runtime requirements:\n{result.stderr}")
    for name in NEVER_BUNDLED:
        if (staging / name).exists():
            raise SystemExit(f"build_zip: {name} must not be bundled (the Lambda runtime provides it)")
    (staging / ".complete").touch()
    try:
        staging.rename(target)
    except OSError:  # another build finished first: use its copy
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _files(root: Path) -> list[tuple[str, Path]]:
    entries = []
    for path in root.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc" or path.name == ".complete":
            continue
        entries.append((path.relative_to(root).as_posix(), path))
    return entries


def build(out_dir: Path) -> tuple[Path, str]:
    build_dir = REPO / "build"
    build_dir.mkdir(exist_ok=True)
    deps = install_dependencies(build_dir)
    entries = _files(deps) + [(f"due/{name}", path) for name, path in _files(REPO / "src" / "due")]
    # The view SQL the data lake's custom resource runs (due/data_lake/views.py finds it here).
    entries += [(f"athena/{name}", path) for name, path in _files(REPO / "athena")]
    entries.sort(key=lambda entry: entry[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / "due-lambda.zip"
    # A name of its own, so two builds at once (parallel test workers) never write the same file.
    handle, partial_name = tempfile.mkstemp(prefix="due-lambda-", suffix=".partial", dir=out_dir)
    os.close(handle)
    partial = Path(partial_name)
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    os.replace(partial, zip_path)
    return zip_path, sha256_of(zip_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output folder (default: dist/)")
    args = parser.parse_args()
    zip_path, digest = build(args.out)
    print(f"{zip_path} {digest}")


if __name__ == "__main__":
    main()
