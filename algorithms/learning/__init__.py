"""algorithms.learning: models, their local rules, and training one model or replicated copies.

* :class:`Perceptron` -- binary weights ``sign(h)``, clipped perceptron or SBPI;
* :class:`Committee` -- K binary hidden units and a majority vote, least-action rule;
* :class:`MLP` -- fully connected network, minibatch SGD (momentum) with NumPy backprop,
  on :func:`digits` (scikit-learn's bundled 8x8 digits) or :func:`teacher_classification`;
* :func:`train` -- one model with its own rule;
* baselines: :func:`independent` copies, :func:`replicated` SGD (copies pulled
  elastically to their centre) and :func:`easgd` (elastic averaging SGD).

Every trainer keeps parameters with a leading copy axis (docs/theory.md §7.2),
which is how ``lifts.route`` runs M routed copies through the same rules.
"""

from ._base import GRANULARITIES, Model, Route, data_of, split_rng
from .baselines import ReplicaResult, easgd, independent, replicated
from .committee import Committee
from .datasets import ClassificationData, digits, digits_or_teacher, teacher_classification
from .evaluate import copy_and_ensemble_errors, mean_sem, teacher_test_set
from .mlp import MLP, MLPData, class_labels
from .perceptron import Perceptron
from .train import TrainResult, epoch_loop, train

__all__ = [
    "GRANULARITIES", "ClassificationData", "Committee", "MLP", "MLPData", "Model", "Perceptron",
    "ReplicaResult", "Route", "TrainResult", "class_labels", "copy_and_ensemble_errors", "data_of",
    "digits", "digits_or_teacher", "easgd", "epoch_loop", "independent", "mean_sem", "replicated",
    "split_rng", "teacher_classification", "teacher_test_set", "train",
]
