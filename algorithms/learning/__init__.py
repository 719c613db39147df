"""algorithms.learning: models, their local rules, and training one model or replicated copies.

* :class:`Perceptron` -- binary weights ``sign(h)``, clipped perceptron or SBPI;
* :class:`Committee` -- K binary hidden units and a majority vote, least-action rule;
* :func:`train` -- one model with its own rule;
* baselines: :func:`independent` copies, :func:`replicated` SGD (copies pulled
  elastically to their centre) and :func:`easgd` (elastic averaging SGD).

Every trainer keeps parameters with a leading copy axis (docs/theory.md §7.2),
which is how ``lifts.route`` runs M routed copies through the same rules.
"""

from ._base import GRANULARITIES, Model, Route, data_of, split_rng
from .baselines import ReplicaResult, easgd, independent, replicated
from .committee import Committee
from .evaluate import copy_and_ensemble_errors, teacher_test_set
from .perceptron import Perceptron
from .train import TrainResult, epoch_loop, train

__all__ = [
    "GRANULARITIES", "Committee", "Model", "Perceptron", "ReplicaResult", "Route", "TrainResult",
    "copy_and_ensemble_errors", "data_of", "easgd", "epoch_loop", "independent", "replicated", "split_rng",
    "teacher_test_set", "train",
]
