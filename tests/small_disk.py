"""A real small filesystem for fault tests: a tmpfs mounted by the test (root only), filled on demand.

`small_disk(path, size)` mounts a tmpfs of `size` on `path` and unmounts it afterwards; where
mounting is impossible (not root, no CAP_SYS_ADMIN) the test is skipped with the reason.
`fill(path, leave)` takes the free space down to `leave` bytes with a filler file; deleting that
file (`free`) gives the space back.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILLER = ".filler"


@contextmanager
def small_disk(path: Path, size: str = "2m") -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)  # a killed server's files may still be open


def remount(path: Path, mode: str) -> None:
    """`mode` is `ro` or `rw`: root ignores file modes, so a read-only mount is the honest test."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


def free_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def fill(path: Path, leave: int) -> None:
    """Take the filesystem's free space down to about `leave` bytes (to the page)."""
    with (path / FILLER).open("ab") as filler:
        while (spare := free_bytes(path) - leave) > 0:
            filler.write(b"\0" * min(spare, 1 << 20))
            filler.flush()


def free(path: Path) -> None:
    (path / FILLER).unlink()
