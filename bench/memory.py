"""The peak memory of the running process, for the benchmarks' memory goals.

``getrusage(RUSAGE_SELF).ru_maxrss`` is not the process's own peak on Linux: a child started by ``subprocess``
(``vfork`` + ``exec``) starts with its parent's high-water mark, so a measuring child whose parent had just built
a large data set reported the parent's 676 MB instead of its own 80 MB. ``VmHWM`` in ``/proc/self/status`` is
the peak of the process's own address space since its ``exec``; ``ru_maxrss`` only where there is no ``/proc``.
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """The peak resident memory of this process since it started, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
