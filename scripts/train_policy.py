"""Train a policy from a preset; same as ``robo-flows train --config PRESET [key=value ...] --out DIR``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["train", *sys.argv[1:]]))
