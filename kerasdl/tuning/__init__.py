"""KerasTuner over kerasdl: every registered model family declares a search space
(learning rate, dropout, width and, where it fits, depth), searched with RandomSearch,
Hyperband or BayesianOptimization; resumable, and distributed with KerasTuner's own
chief/worker mode. See `kerasdl.tuning.search` and `kerasdl tune`.
"""

from kerasdl.tuning.search import KerasdlHyperModel, make_tuner, search
from kerasdl.tuning.spaces import DEFAULT_RANGES, check_ranges, declare

__all__ = ["KerasdlHyperModel", "make_tuner", "search", "DEFAULT_RANGES", "check_ranges",
           "declare"]
