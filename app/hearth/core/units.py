"""Sizes in bytes."""

KIB = 2**10
MIB = 2**20
GIB = 2**30


def human_size(n: float) -> str:
    """A size as people read it: KiB, MiB below a gibibyte, GiB above."""
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    return f"{n / MIB:.0f} MiB" if n >= MIB else f"{n / KIB:.0f} KiB"
