"""The interleaved timer: warm up, then time every case in turn, round after round.

Running A B A B ... (each round in the reverse order of the one before, so no case is
always first) makes the cases share the same machine noise: on a busy computer the
ratios stay meaningful even when the absolute times wander. Each sample repeats a call
enough times to last at least `min_sample_s`, so microsecond ops are timed too.
"""
from __future__ import annotations

import gc
import re
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass
class Stats:
    """Seconds per call over the samples: median, fastest and slowest."""

    median: float
    min: float
    max: float
    n: int  # samples
    number: int  # calls per sample
    samples: tuple[float, ...] = ()  # in round order: sample r of every case ran in round r

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.min, "max": self.max, "n": self.n, "number": self.number}

    def scaled(self, factor: float) -> Stats:
        """The same stats in other units (e.g. per step -> per epoch)."""
        return Stats(self.median * factor, self.min * factor, self.max * factor, self.n, self.number,
                     tuple(x * factor for x in self.samples))


def paired_ratio(num: Stats, den: Stats) -> float | None:
    """The median over rounds of num's sample / den's sample from the same round: the ratio
    least moved by a machine whose speed drifts between rounds."""
    if not num.samples or len(num.samples) != len(den.samples):
        return None
    return statistics.median(a / b for a, b in zip(num.samples, den.samples))


def _run(fn: Callable[[], object], number: int) -> float:
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - t0


def calibrate(fn: Callable[[], object], min_sample_s: float) -> int:
    """How many calls make one sample last at least `min_sample_s`."""
    number = 1
    while True:
        t = _run(fn, number)
        if t >= min_sample_s or number >= 1 << 20:
            return number
        guess = int(number * min_sample_s / max(t, 1e-9) * 1.1) + 1
        number = min(max(guess, number + 1), number * 100)


def interleaved(
    cases: Mapping[str, Callable[[], object]],
    repeats: int = 7,
    warmup: int = 2,
    min_sample_s: float = 0.02,
) -> dict[str, Stats]:
    """Time each zero-argument callable in `cases`, interleaved; seconds per call."""
    # Long-lived objects (PyTorch's modules alone are ~1e5) go to the permanent generation,
    # so the collections below and during the runs scan only what the cases themselves make.
    gc.collect()
    gc.freeze()
    numbers = {}
    for name, fn in cases.items():
        for _ in range(warmup):
            fn()
        numbers[name] = calibrate(fn, min_sample_s)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            gc.collect()  # a collection left over from one case must not land in another's time
            samples[name].append(_run(cases[name], numbers[name]) / numbers[name])
    return {
        name: Stats(statistics.median(s), min(s), max(s), len(s), numbers[name], tuple(s))
        for name, s in samples.items()
    }


def row(
    name: str,
    unit: str,
    stats: Mapping[str, Stats],
    ratios: tuple[tuple[str, str], ...] = (),
    scale: float = 1.0,
    **extra: object,
) -> dict[str, object]:
    """One line of the results: each implementation's time in `unit` (seconds per call
    times `scale`) and the ratios of medians asked for, e.g. ("matgrad", "torch")."""
    times = {k: s.scaled(scale).as_dict() for k, s in stats.items()}
    medians: dict[str, float] = {}
    mins: dict[str, float] = {}  # the fastest samples: the least disturbed on a busy machine
    paired: dict[str, float] = {}
    for num, den in ratios:
        if num in stats and den in stats:
            medians[f"{num}/{den}"] = stats[num].median / stats[den].median
            mins[f"{num}/{den}"] = stats[num].min / stats[den].min
            pr = paired_ratio(stats[num], stats[den])
            if pr is not None:
                paired[f"{num}/{den}"] = pr
    out: dict[str, object] = {"name": name, "unit": unit, "times": times, "ratios": medians,
                              "ratios_of_min": mins, "ratios_paired": paired}
    out.update(extra)
    return out


#: A row's goal: "NUM/DEN <= BOUND" on its ratio of medians, then the issue that sets it in brackets,
#: e.g. "matgrad/numpy <= 1.0 [issue 19, goal 2]". A row's "goal" is one such string or a list of them.
GOAL = re.compile(r"(?P<ratio>[^\s/]+/[^\s/]+) <= (?P<bound>\d+(?:\.\d+)?)(?: \[(?P<source>[^\]]+)\])?")


def judge(r: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each of the row's goals with its ratio of medians (and paired ratio) and whether that meets it:
    met is None where the row has no such ratio (a library not installed)."""
    goals = r.get("goal") or []
    verdicts = []
    for text in [goals] if isinstance(goals, str) else goals:
        m = GOAL.fullmatch(text)
        if m is None:
            raise ValueError(f"goal {text!r} of row {r.get('name')!r}: expected 'NUM/DEN <= BOUND [source]'")
        value = r.get("ratios", {}).get(m["ratio"])
        verdicts.append({"goal": text, "ratio": m["ratio"], "bound": float(m["bound"]), "source": m["source"],
                         "value": value, "paired": r.get("ratios_paired", {}).get(m["ratio"]),
                         "met": None if value is None else value <= float(m["bound"])})
    return verdicts
