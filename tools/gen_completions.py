"""Regenerate completions/ from the CLI: `python tools/gen_completions.py [--check]`."""

from __future__ import annotations

import sys
from pathlib import Path

from kcli.cli import root
from kcli.completion import GENERATORS

OUT = Path(__file__).resolve().parent.parent / "completions"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for generate, filename in GENERATORS.values():
        text = generate(root)
        path = OUT / filename
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale completions (run python tools/gen_completions.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
