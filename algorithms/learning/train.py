"""Training one model with its own local rule: :func:`train` and :class:`TrainResult`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fgraph.dtypes import FLOAT

from ._base import Model, check_positive_int, data_of, split_rng

__all__ = ["TrainResult", "train", "epoch_loop"]


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    params : dict of str to ndarray of float64
        The trained parameters, shapes as ``model.init``.
    history : dict of str to ndarray
        Per epoch (length ``epochs`` run): ``errors`` (fraction of visited
        examples misclassified when visited, float64) and ``updates`` (fraction
        of visits that sent a message, float64).
    model : Model
    epochs : int
        Epochs run (fewer than asked when the callback stopped the run).
    """

    params: dict
    history: dict
    model: Model
    epochs: int


def check_model(model) -> Model:
    if not isinstance(model, Model):
        raise TypeError(
            "model must be an algorithms.learning model (Perceptron, Committee, MLP), "
            f"got {type(model).__name__}"
        )
    return model


def epoch_loop(model, params, state, data, epochs, order_rng, route_of_epoch=None, callback=None,
               progress=None, extra=None):
    """Run up to ``epochs`` epochs in place; return ``(history, epochs_run)``.

    ``route_of_epoch(e)`` gives the :class:`~algorithms.learning.Route` of
    epoch e (None: unrouted).  ``extra(e, params)`` may add arrays to the
    epoch's statistics.  ``callback(epoch, params, stats)`` returning True
    stops the run after that epoch; ``progress(e)`` is called after each epoch.
    History values are float64 arrays (epochs_run, M) of per-copy fractions.
    """
    n_fac = model.n_factors(data)
    rows: dict[str, list] = {}
    run = 0
    for e in range(epochs):
        order = order_rng.permutation(n_fac)
        route = None if route_of_epoch is None else route_of_epoch(e)
        stats = model.epoch(params, state, data, order, route, order_rng)
        stats = {k: np.asarray(v, dtype=FLOAT) / n_fac for k, v in stats.items()}
        if extra is not None:
            stats.update(extra(e, params))
        for k, v in stats.items():
            rows.setdefault(k, []).append(v)
        run = e + 1
        if progress is not None:
            progress(e)
        if callback is not None and callback(e, params, stats):
            break
    return {k: np.array(v, dtype=FLOAT) for k, v in rows.items()}, run


def train(problem, model, *, epochs, seed=None, init=None, callback=None) -> TrainResult:
    """Train one model on a learning problem with the model's own rule.

    Each epoch visits the factors (examples, or the MLP's fixed minibatches)
    in a fresh random order from ``seed``.

    Parameters
    ----------
    problem : Problem or (X, y)
        A learning problem with data ``F`` float64 (P, D) and labels ``y``, or
        the pair itself.
    model : Model
        ``Perceptron``, ``Committee`` or ``MLP``.
    epochs : int >= 1
    seed : int, numpy Generator or None
        Draws the initial parameters (unless ``init`` is given), then the
        visiting orders and any random number the rule uses, from separate
        streams: the same seed gives the same run, and the copies of a routed
        run with the same seed see the same orders.
    init : dict of arrays, optional
        Starting parameters (copied), shapes as ``model.init``.
    callback : callable, optional
        ``callback(epoch, params, stats)`` after each epoch (``params`` with a
        leading copy axis of length 1); returning True stops the run.

    Returns
    -------
    TrainResult

    Raises
    ------
    TypeError, ValueError
        A model that is not one of ours, ``epochs < 1``, data that do not fit
        the model, ``init`` of the wrong keys or shapes.

    Examples
    --------
    >>> from fgraph.problems import committee
    >>> from algorithms.learning import Committee, train
    >>> prob = committee(101, 2.0, 3, seed=0, graph=False)
    >>> run = train(prob, Committee(3), epochs=5, seed=0)
    >>> run.params["h"].shape, run.epochs, run.history["errors"].shape
    ((3, 101), 5, (5,))
    """
    model = check_model(model)
    epochs = check_positive_int(epochs, "epochs")
    init_rng, order_rng, _, _ = split_rng(seed)
    X, y = data_of(problem, labels=getattr(model, "labels", "sign"))
    data = model.prepare(X, y, order_rng)
    n_in = data.X.shape[1]
    one = model.init(n_in, init_rng) if init is None else model.check_params(init, n_in)
    params = {k: np.ascontiguousarray(v[None], dtype=FLOAT) for k, v in one.items()}
    state = model.new_state(params)
    history, run = epoch_loop(model, params, state, data, epochs, order_rng, callback=callback)
    return TrainResult(
        params={k: v[0] for k, v in params.items()},
        history={k: v[:, 0] for k, v in history.items()},
        model=model,
        epochs=run,
    )
