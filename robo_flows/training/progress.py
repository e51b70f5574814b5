"""Progress of a long loop: a refreshing tqdm bar on a terminal, a few plain lines in a log file.

A tqdm bar redraws itself with carriage returns; written into a file (``robo-flows train ... > log 2>&1``)
every redraw stays, about 55 KB per run. When the stream is not a terminal, ``Progress`` prints one plain
line per ``PLAIN_LINES``-th of the total instead (``train: 200/2000 (10%) loss=1.23 7.5 it/s``).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from tqdm.auto import tqdm

PLAIN_LINES = 10  # plain lines per loop when not on a terminal (every 10%)


class Progress:
    """``update(n)``, ``set_postfix(**values)``, ``close()`` (or ``with``); silent unless ``enabled``."""

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        initial: int = 0,
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total, self.desc, self.n = int(total), desc, int(initial)
        self.enabled = enabled
        self.postfix: dict[str, Any] = {}
        is_tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar = (
            tqdm(total=total, initial=initial, desc=desc, file=self.stream, dynamic_ncols=True)
            if enabled and is_tty
            else None
        )
        self._every = max(1, self.total // PLAIN_LINES)
        self._tick, self._tick_n = time.perf_counter(), self.n

    def update(self, n: int = 1) -> None:
        before, self.n = self.n, self.n + n
        if self._bar is not None:
            self._bar.update(n)
        elif self.enabled and (self.n // self._every > before // self._every or self.n == self.total):
            self._line()

    def set_postfix(self, **values: Any) -> None:
        self.postfix = values
        if self._bar is not None:
            self._bar.set_postfix(**values)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _line(self) -> None:
        now = time.perf_counter()
        rate = (self.n - self._tick_n) / max(now - self._tick, 1e-9)
        self._tick, self._tick_n = now, self.n
        extra = " ".join(f"{k}={v}" for k, v in self.postfix.items())
        pct = 100 * self.n // max(self.total, 1)
        print(
            f"{self.desc}: {self.n}/{self.total} ({pct}%) {extra} {rate:.3g} it/s".replace("  ", " "),
            file=self.stream,
            flush=True,
        )
