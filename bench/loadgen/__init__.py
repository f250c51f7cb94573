"""The compiled load generator (``main.go`` here): built by the bench with this machine's Go.

``build()`` compiles it to ``.local/bin/paris-live-loadgen`` once per source: the binary is kept
beside a stamp holding the hash of ``go.mod``, ``go.sum`` and the ``.go`` files, and rebuilt only
when that hash changes. The module ``github.com/coder/websocket`` comes from the Go module proxy
(``GOFLAGS=-mod=mod``: nothing vendored).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SOURCE = Path(__file__).resolve().parent
ROOT = SOURCE.parents[1]
BINARY = ROOT / ".local" / "bin" / "paris-live-loadgen"
STAMP = BINARY.with_name(BINARY.name + ".sha256")


class LoadgenBuildError(RuntimeError):
    """Go is missing or ``go build`` failed (its output is the message)."""


def go_available() -> bool:
    """Whether a ``go`` command is on the PATH."""
    return shutil.which("go") is not None


def source_hash() -> str:
    """The hash of everything the binary is built from."""
    digest = hashlib.sha256()
    for path in sorted([SOURCE / "go.mod", SOURCE / "go.sum", *SOURCE.glob("*.go")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build() -> Path:
    """The load generator's binary, compiled first when its sources changed since the last build."""
    wanted = source_hash()
    if BINARY.exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return BINARY
    go = shutil.which("go")
    if go is None:
        raise LoadgenBuildError("the load generator needs Go (`go` is not on the PATH)")
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GOFLAGS="-mod=mod -buildvcs=false", CGO_ENABLED="0")
    done = subprocess.run(
        [go, "build", "-trimpath", "-o", str(BINARY), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise LoadgenBuildError(f"go build failed:\n{done.stdout}{done.stderr}")
    STAMP.write_text(wanted + "\n")
    return BINARY
