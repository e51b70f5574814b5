"""Suite-wide settings: one torch thread per test process.

``make test`` runs two pytest workers on a 2-core machine; each worker at torch's default of one
thread per core would oversubscribe the CPU (tiny models gain nothing from intra-op threads and
lose much to contention). Tests that study threads set and restore their own count.
"""

import torch

torch.set_num_threads(1)
