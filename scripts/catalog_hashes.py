"""Fill in the catalog's SHA-256 pins from the hub: ``uv run python -m scripts.catalog_hashes``.

Each GGUF entry's listed files (the first part of a split model) get the hub's LFS SHA-256 at the
repository's current commit, where the catalog has none; a pin that no longer agrees is reported, not
replaced (the file on the hub changed: someone should look before the catalog trusts the new one).
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
                listed = hub.model(entry.repo, f.file).parts[0].sha256
            except HubError as exc:
                print(f"{entry.id} {f.quant}: {exc}", file=sys.stderr)
                continue
            if listed is None:
                continue
            if f.sha256 and f.sha256 != listed:
                print(f"{entry.id} {f.quant}: pinned {f.sha256[:12]}…, the hub now has {listed[:12]}…")
                disagree += 1
            elif not f.sha256:
                raw_file["sha256"] = listed
                changed += 1
    if changed and not args.check:
        CATALOG.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{changed} pins {'missing' if args.check else 'added'}, {disagree} disagree")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
