"""How many threads llama.cpp gets when nobody says: the same number llama.cpp's own tools pick.

llama.cpp's CLI and server default to one thread per physical core (hyperthreads do not help its
matrix kernels), while llama-cpp-python defaults to half the logical CPUs, which leaves half of a
machine without SMT idle. Hearth follows llama.cpp. The OpenMP wait policy is left to llama.cpp as well:
its threads spin briefly between ops, and a passive policy (sleeping at once) made decoding 2-4x slower
when measured. A donating device whose own engine runs at the same moment shares its cores between the
two either way; the donation's thread cap is how a user keeps cores for the machine's own work.
"""

from __future__ import annotations

import os

import psutil


def default_threads() -> int:
    """Physical cores this process may run on; at least 1."""
    physical = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity mask to honour
        allowed = physical
    return max(1, min(physical, allowed))


def resolve(threads: int | None) -> int:
    """A requested thread count, or the default when none (or 0) was asked for."""
    return threads if threads and threads > 0 else default_threads()
