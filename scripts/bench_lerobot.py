"""Reading a LeRobot folder into training windows, and its mp4 size; same as ``robo-flows bench lerobot``."""

import sys

from robo_flows.commands import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", "lerobot", *sys.argv[1:]]))
