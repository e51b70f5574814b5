"""Train the toy problem in its own process (run directly or under torchrun); used by the training tests.

    python train_worker.py DEMOS OUT [--steps N]

Rank 0 prints the summary as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch
from training_toy import EXTRA, toy_config, toy_datasets, toy_model

from robo_flows.training import Trainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("demos", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train_set, valid_set = toy_datasets(args.demos)
    model = toy_model(train_set)
    summary = Trainer(model, train_set, valid_set, toy_config(steps=args.steps), args.out, EXTRA).fit()
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
