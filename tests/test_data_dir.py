"""A data dir that cannot be written (a read-only mount, a full disk) is said at start, in one line
with exit status 2, by every command that opens the stores: never a traceback, never a half start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from small_disk import fill, remount, small_disk

COMMANDS = {
    "serve": ["serve", "--port", "0"],
    "users create": ["users", "create", "--email", "second@example.com", "--password", "correct horse"],
    "demo": ["demo", "--events", "10", "--days", "1"],
    "store init": ["store", "init"],
    "migrate": ["migrate"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("condition,reason", [("read-only", "Read-only file system"),
                                              ("full", "No space left on device")])
def test_an_unwritable_data_dir_is_one_line_and_exit_2(tmp_path, command, condition, reason):
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(tmp_path / "data"), "POSTMETRIC_CACHE_DIR": str(tmp_path / "cache")}
    postmetric = [sys.executable, "-m", "postmetric"]
    with small_disk(tmp_path / "data", "4m") as disk:
        # An install that has run before: its metadata file and journal are there.
        subprocess.run([*postmetric, "users", "create", "--email", "owner@example.com", "--password",
                        "correct horse"], env=env, check=True, capture_output=True)
        (disk / "journal").mkdir()
        if condition == "read-only":
            remount(disk, "ro")
        else:
            fill(disk, leave=0)
        try:
            done = subprocess.run([*postmetric, *command], env=env, capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the command started as if the data dir were fine")
        finally:
            if condition == "read-only":
                remount(disk, "rw")
    assert (done.returncode, done.stderr) == (2, f"error: data dir {disk} is not writable: {reason}\n")


def test_a_full_journal_disk_is_named(tmp_path):
    """The journal may sit on a disk of its own: the line says which directory cannot be written."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(data_dir), "POSTMETRIC_CACHE_DIR": str(tmp_path / "cache")}
    with small_disk(data_dir / "journal", "1m") as disk:
        fill(disk, leave=0)
        done = subprocess.run([sys.executable, "-m", "postmetric", "serve", "--port", "0"], env=env,
                              capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        2, f"error: data dir {data_dir} is not writable: {disk}: No space left on device\n")
