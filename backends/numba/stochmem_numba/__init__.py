"""stochmem's compiled CPU backend (numba): fused, exact kernels."""

import contextlib
import hashlib
from pathlib import Path

__version__ = "0.1.0"


def _drop_stale_cache() -> None:
    """Delete numba's cached machine code here when any source file of this package has changed.

    numba checks a cached function against its own file only, but a kernel called from another module's function
    is compiled into that function's cache entry: after editing ``kernels.py`` the cached ``step.train_step`` would
    still run the old kernel. One digest of all the package's sources guards against that.
    """
    folder = Path(__file__).parent
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sorted(folder.glob("*.py")))).hexdigest()
    cache = folder / "__pycache__"
    stamp = cache / "numba-sources.sha256"
    with contextlib.suppress(OSError):  # a read-only installation: nothing to drop, nothing to stamp
        if stamp.is_file() and stamp.read_text() == digest:
            return
        for entry in [*cache.glob("*.nbi"), *cache.glob("*.nbc")]:
            entry.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)


_drop_stale_cache()
