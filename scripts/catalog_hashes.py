"""Fill in the catalog's SHA-256 pins from the hub: ``uv run python -m scripts.catalog_hashes``.

Each GGUF entry's listed files get the hub's LFS SHA-256 of every part (one string for a single
file, a list for a split model) at the repository's current commit, where the catalog has none; a
pin that no longer agrees is reported, not replaced (the file on the hub changed: someone should
look before the catalog trusts the new one).
Needs the network to reach the hub (``HF_ENDPOINT``, if set, is used instead).
"""

from __future__ import annotations

import argparse
import json
import sys

from hearth.models.catalog import CATALOG, load_catalog
from hearth.models.hub import Hub, HubError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; change nothing")
    args = parser.parse_args()
    data = json.loads(CATALOG.read_text(encoding="utf-8"))
    hub = Hub()
    changed = disagree = 0
    for entry, raw in zip(load_catalog(), data["models"], strict=True):
        if entry.format != "gguf":
            continue
        for f, raw_file in zip(entry.files, raw["files"], strict=True):
            try:
                hashes = [part.sha256 for part in hub.model(entry.repo, f.file).parts]
            except HubError as exc:
                print(f"{entry.id} {f.quant}: {exc}", file=sys.stderr)
                continue
            listed = tuple(h for h in hashes if h is not None)
            if len(listed) != len(hashes):
                continue  # a part without a listed hash: nothing to pin it to
            pinned = f.pins()
            if pinned and pinned != listed:
                print(f"{entry.id} {f.quant}: pinned {pinned[0][:12]}…, the hub now has {listed[0][:12]}…")
                disagree += 1
            elif not pinned:
                raw_file["sha256"] = listed[0] if len(listed) == 1 else list(listed)
                changed += 1
    if changed and not args.check:
        CATALOG.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{changed} pins {'missing' if args.check else 'added'}, {disagree} disagree")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
