"""Training metrics to ``DIR/log.csv`` and TensorBoard (``DIR/tb/``), written by rank 0 only.

TensorBoard is optional (the ``viz`` extra): without it only the CSV is written.

CSV columns are fixed (``COLUMNS``); a cell is empty when that metric was not measured at that step. On resume
the rows after the resumed step (logged by the killed run after its last checkpoint) are dropped, and
TensorBoard events after it are purged, so the logs read as one uninterrupted run.
"""

from __future__ import annotations

import csv
from pathlib import Path

COLUMNS: tuple[str, ...] = (
    "step",
    "train_loss",
    "valid_loss",
    "valid_median",
    "rollout_success",
    "lr",
    "grad_norm",
    "steps_per_s",
    "wall_s",
)


class MetricsLog:
    """Append rows of scalars keyed by step; ``close()`` flushes the TensorBoard writer."""

    def __init__(self, out_dir: str | Path, resume_step: int | None = None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter  # slow import, only where logs are written
        except ImportError:  # tensorboard absent: CSV only
            SummaryWriter = None

        Path(out_dir).mkdir(parents=True, exist_ok=True)
        self.csv_path = Path(out_dir) / "log.csv"
        kept: list[dict[str, str]] = []
        if resume_step is not None and self.csv_path.is_file():
            with self.csv_path.open(newline="") as f:
                kept = [row for row in csv.DictReader(f) if int(row["step"]) <= resume_step]
        self._file = self.csv_path.open("w", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=COLUMNS)
        self._csv.writeheader()
        self._csv.writerows(kept)
        self._file.flush()
        purge = resume_step + 1 if resume_step is not None else None
        self._tb = None
        if SummaryWriter is not None:
            self._tb = SummaryWriter(log_dir=str(Path(out_dir) / "tb"), purge_step=purge)

    def log(self, step: int, **values: float | None) -> None:
        """One row at ``step``; a None value leaves its cell empty (not measured)."""
        values = {k: v for k, v in values.items() if v is not None}
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown metric(s) {sorted(unknown)}; known: {COLUMNS[1:]}")
        self._csv.writerow({"step": step, **{k: f"{v:.6g}" for k, v in values.items()}})
        self._file.flush()
        for key, value in values.items():
            if key != "wall_s" and self._tb is not None:
                tag = f"loss/{key.removesuffix('_loss')}" if key.endswith("_loss") else key
                self._tb.add_scalar(tag, value, step)

    def close(self) -> None:
        self._file.close()
        if self._tb is not None:
            self._tb.close()
