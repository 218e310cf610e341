"""Lab fixture: a small, real tmpfs that a test fills to the page, so the disk is full exactly
where the test wants it (``mount -t tmpfs``: the tests run as root, as CI does)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PAGE = 4096
FILLER = ".filler"


@dataclass
class SmallDisk:
    root: Path

    def free_pages(self) -> int:
        stat = os.statvfs(self.root)
        return stat.f_bavail * stat.f_frsize // PAGE

    def used_pages(self) -> int:
        stat = os.statvfs(self.root)
        return (stat.f_blocks - stat.f_bfree) * stat.f_frsize // PAGE

    def clear(self) -> None:
        for entry in self.root.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def leave_free(self, pages: int) -> None:
        """Fill the disk so that exactly ``pages`` pages stay free."""
        filler = self.root / FILLER
        filler.unlink(missing_ok=True)
        fill = self.free_pages() - pages
        assert fill >= 0, f"only {self.free_pages()} pages free"
        with open(filler, "wb") as handle:
            handle.write(b"\0" * fill * PAGE)
        assert self.free_pages() == pages

    def unfill(self) -> None:
        (self.root / FILLER).unlink(missing_ok=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    root = tmp_path / "small-disk"
    root.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(root)], check=True, timeout=30)
    try:
        yield SmallDisk(root)
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False, timeout=30)
