"""The built script stays within its budget (SPEC §3): ≤ 2,000 bytes gzip -9, every feature in."""

import gzip

from postmetric.web.routes.tracker import SCRIPT_DIR

BUDGET = 2_000


def test_the_script_is_at_most_2000_bytes_gzip_9():
    script = (SCRIPT_DIR / "script.js").read_bytes()
    size = len(gzip.compress(script, compresslevel=9, mtime=0))
    assert size <= BUDGET, f"script.js is {size} bytes gzip -9 (budget {BUDGET})"


def test_the_shipped_precompressed_files_are_that_script():
    script = (SCRIPT_DIR / "script.js").read_bytes()
    assert gzip.decompress((SCRIPT_DIR / "script.js.gz").read_bytes()) == script
