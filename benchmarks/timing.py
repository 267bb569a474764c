"""Side-by-side timing: contenders alternate (A B C A B C …) so machine drift falls on all alike."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass


@dataclass
class Rate:
    """Throughput samples (samples/s) of one contender; summarized as median with min–max."""

    samples: list

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


PAUSE_SECONDS = 0.5  # idle time before each timed call (see ``alternate``)


def alternate(runs: dict, n_items: int, repeats: int, warmup: int = 1, pause: float = PAUSE_SECONDS) -> dict:
    """Call every ``runs[name]()`` in turn, ``warmup + repeats`` rounds; ``{name: Rate}`` of the timed rounds.

    ``n_items`` is the number of samples one call processes, so a rate is ``n_items / seconds``.
    Before each call the process sleeps ``pause`` seconds, untimed: thread pools keep spinning
    after their last task (GNU OpenMP's, which PyTorch uses, for up to 200 ms; OpenBLAS's for a
    while), and without the pause the contender that runs right after PyTorch would share the
    two cores with its spinning threads during the first part of its epoch.
    """
    rates = {name: Rate([]) for name in runs}
    for round_ in range(warmup + repeats):
        for name, run in runs.items():
            time.sleep(pause)
            start = time.perf_counter()
            run()
            seconds = time.perf_counter() - start
            if round_ >= warmup:
                rates[name].samples.append(n_items / seconds)
    return rates
