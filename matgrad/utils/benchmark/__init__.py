"""torch.utils.benchmark's counterpart: Timer, Measurement and Compare.

timer     Timer: time a statement with warm-up, replicates and a fixed thread count
common    TaskSpec and Measurement (median, IQR, significant figures), select_unit, set_torch_threads
compare   Compare: many Measurements as tables by label, sub_label and description
"""
from __future__ import annotations

from .common import Measurement, TaskSpec, ordered_unique, select_unit, set_torch_threads, trim_sigfig, unit_to_english
from .compare import Colorize, Compare
from .timer import Language, Timer, timer

__all__ = [
    "Timer", "timer", "Language", "Measurement", "TaskSpec", "Compare", "Colorize", "select_unit", "unit_to_english",
    "trim_sigfig", "ordered_unique", "set_torch_threads",
]
