"""Render the tables of README.md and docs/*.md from the committed results in benchmarks/results/.

python scripts/render_results.py           # rewrite the marked tables in place
python scripts/render_results.py --check   # exit 1 if a table differs from its committed result
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robo_flows.benchmarks.render import render_files

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a table is stale")
    args = parser.parse_args(argv)
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    stale = render_files(files, ROOT / "benchmarks" / "results", check=args.check)
    for path in stale:
        print(f"{'stale' if args.check else 'rendered'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
