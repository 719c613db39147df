"""A multilayer perceptron trained by minibatch SGD, one fixed minibatch per factor.

The network maps an input x, float64 (D,), through L - 1 hidden layers and a
linear output layer to C class logits::

    a_0 = x,   h_l = W_l a_{l-1} + b_l,   a_l = act(h_l)  (l < L),   z = h_L

with parameters ``{"W1": (H1, D), "b1": (H1,), ..., "WL": (C, H_{L-1}), "bL": (C,)}``.
Its local rule (docs/theory.md §7.4) is one SGD step (optionally with
momentum and weight decay) on the mean loss of one minibatch: the examples
are split once per run into fixed minibatches (:meth:`MLP.prepare`), and each
minibatch is one *factor* of the epoch.  Backpropagation is written out in
NumPy.

Routed training (``lifts.routing.route``) runs M routed models through the
same step: at factor f routed model m takes every unit (a weight, a neuron's
incoming row and bias, or a whole array) from the copy named by the routing
table, computes its gradient on the minibatch, and the gradient of every
entry goes back to the copy the entry came from.  Each ``table[f, u]`` is a
permutation, so every copy receives exactly one gradient per factor and then
takes its own optimizer step with its own momentum.

Bit-exactness: the forward and backward passes run copy by copy with 2-D
products (a batched ``matmul`` over the copy axis is not guaranteed to round
like the 2-D product), and the optimizer step is elementwise, so copy m of M
identity-routed copies equals a single model trained alone, bit for bit.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from fgraph.dtypes import FLOAT, INDEX

from ._base import Model, check_positive_int, check_real, data_of

__all__ = ["MLP", "MLPData", "class_labels"]

ACTIVATIONS = ("relu", "tanh")
LOSSES = ("cross_entropy", "squared")
INITS = ("he", "glorot", "lecun")


class MLPData(NamedTuple):
    """Training data of the MLP with its fixed minibatches.

    Attributes
    ----------
    X : ndarray of float64, shape (P, D)
        The inputs, C-contiguous.
    y : ndarray of int64, shape (P,)
        Class indices 0..C-1.
    batch_ptr : ndarray of int64, shape (n_batches + 1,)
        Minibatch f holds the examples ``batch_idx[batch_ptr[f]:batch_ptr[f + 1]]``.
    batch_idx : ndarray of int64, shape (P,)
        A permutation of ``range(P)``, drawn once per run.
    Xb : ndarray of float64, shape (P, D)
        ``X[batch_idx]``: minibatch f is the contiguous slice
        ``Xb[batch_ptr[f]:batch_ptr[f + 1]]``.
    yb : ndarray of int64, shape (P,)
        ``y[batch_idx]``.
    """

    X: np.ndarray
    y: np.ndarray
    batch_ptr: np.ndarray
    batch_idx: np.ndarray
    Xb: np.ndarray
    yb: np.ndarray


def class_labels(y, n_classes: int, name: str = "y") -> np.ndarray:
    """Class indices, int64 (P,), from integer labels 0..C-1 or, when C = 2, labels -1/+1.

    With ``n_classes == 2`` and every label in {-1, +1}, -1 maps to class 0
    and +1 to class 1.  Raises ValueError naming an offending label.

    Examples
    --------
    >>> class_labels([-1, 1, 1], 2).tolist()
    [0, 1, 1]
    >>> class_labels([0, 2, 1], 3).tolist()
    [0, 2, 1]
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"the labels {name} must be 1-D, got shape {y.shape}")
    if y.dtype == bool or not np.issubdtype(y.dtype, np.number) or np.iscomplexobj(y):
        raise TypeError(f"the labels {name} must be integer class indices, got dtype {y.dtype}")
    if y.size and not np.all(np.isfinite(y)):
        raise ValueError(f"the labels {name} have non-finite entries")
    if y.size and not np.all(y == np.round(y)):
        bad = y[y != np.round(y)][0]
        raise ValueError(f"the labels {name} must be integer class indices, got {bad!r}")
    yi = y.astype(INDEX)
    if n_classes == 2 and yi.size and np.all((yi == -1) | (yi == 1)):
        return np.ascontiguousarray((yi + 1) // 2)
    if yi.size and yi.min() < 0:
        raise ValueError(
            f"class label {int(yi.min())} in {name} is negative; labels must be 0..{n_classes - 1}"
            + (" (or -1/+1 for two classes)" if n_classes == 2 else "")
        )
    if yi.size and yi.max() >= n_classes:
        raise ValueError(
            f"class label {int(yi.max())} in {name} is out of range for n_classes={n_classes} "
            f"(labels must be 0..{n_classes - 1})"
        )
    return np.ascontiguousarray(yi)


# -- one copy: forward, loss and backward on a minibatch (all 2-D) -------------------
def _forward(Ws, bs, X, act):
    """Pre-activations and activations of every layer; ``acts[0] = X``, ``pres[-1]`` the logits."""
    acts = [X]
    pres = []
    a = X
    last = len(Ws) - 1
    for layer, (W, b) in enumerate(zip(Ws, bs)):
        h = a @ W.T
        h += b
        pres.append(h)
        if layer < last:
            a = np.maximum(h, 0.0) if act == "relu" else np.tanh(h)
            acts.append(a)
    return pres, acts


def _loss_grad(z, y, loss):
    """Per-example loss, float64 (B,), and the gradient of the MEAN loss w.r.t. the logits, (B, C)."""
    B = z.shape[0]
    rows = np.arange(B)
    if loss == "cross_entropy":
        # log-sum-exp shifted by the row maximum: every exponent is <= 0, so no
        # overflow, and the largest term is exactly 1, so the log is >= 0.
        zmax = z.max(axis=1, keepdims=True)
        e = np.exp(z - zmax)
        s = e.sum(axis=1, keepdims=True)
        lse = np.log(s) + zmax
        per = lse[:, 0] - z[rows, y]
        g = e / s
        g[rows, y] -= 1.0
    else:
        # 0.5 ||z - onehot(y)||^2 on the raw logits.
        g = z.copy()
        g[rows, y] -= 1.0
        per = 0.5 * np.einsum("bc,bc->b", g, g)
    g /= B
    return per, g


def _backward(Ws, pres, acts, dz, act, gWs, gbs):
    """Write the gradients of the mean loss into ``gWs[l]``, ``gbs[l]`` (shapes of ``Ws[l]``, ``bs[l]``)."""
    delta = dz
    for layer in range(len(Ws) - 1, -1, -1):
        np.matmul(delta.T, acts[layer], out=gWs[layer])
        np.sum(delta, axis=0, out=gbs[layer])
        if layer > 0:
            da = delta @ Ws[layer]
            if act == "relu":
                delta = da * (pres[layer - 1] > 0.0)
            else:
                a = acts[layer]
                delta = da * (1.0 - a * a)


class _Gather:
    """Precomputed gather/scatter of one parameter array for one route.

    The entries of a unit move together, so an array is cut into ``n_blocks``
    blocks of ``bsize`` consecutive (C-order) entries that each lie in one
    unit: rows for per-neuron routing, single entries per weight, the whole
    array per tensor.  Block k of routed model m comes from copy
    ``table[f, block_unit[k], m]``; the flat block index into the (M * n_blocks,
    bsize) view of the copies is ``copy * n_blocks + k``.
    """

    def __init__(self, unit_of: np.ndarray, shape: tuple, M: int):
        u = np.ascontiguousarray(unit_of, dtype=INDEX).ravel()
        n = int(np.prod(shape, dtype=INDEX))
        if u.size != n:
            raise ValueError(f"route.unit_of has {u.size} entries for a parameter of shape {shape}")
        if np.all(u == u[0]):
            bsize = n
        elif len(shape) == 2 and np.all(u.reshape(shape) == u.reshape(shape)[:, :1]):
            bsize = shape[1]
        else:
            bsize = 1
        self.bsize = bsize
        self.n_blocks = n // bsize
        self.block_unit = u[::bsize].copy()
        # consecutive unit numbers (per weight, per neuron): a slice of the table, no fancy index
        lo = int(self.block_unit[0])
        contiguous = np.array_equal(self.block_unit, np.arange(lo, lo + self.n_blocks, dtype=INDEX))
        self.units = slice(lo, lo + self.n_blocks) if contiguous else self.block_unit
        self.offset = np.arange(self.n_blocks, dtype=INDEX)
        self.M = M
        self.shape = shape

    def source(self, table_f: np.ndarray) -> np.ndarray:
        """Flat block indices, int64 (M * n_blocks,), of routed model m's blocks in the copies."""
        perm = table_f[self.units]                           # (n_blocks, M): copy of block k for model m
        src = np.multiply(perm.T, self.n_blocks, dtype=INDEX)
        src += self.offset
        return src.ravel()

    def gather(self, arr: np.ndarray, src: np.ndarray) -> np.ndarray:
        flat = arr.reshape(self.M * self.n_blocks, self.bsize)
        # mode='clip' skips the bounds check: src is a permutation of range(M * n_blocks)
        return np.take(flat, src, axis=0, mode="clip").reshape(self.M, *self.shape)

    def scatter(self, routed_grad: np.ndarray, src: np.ndarray, out: np.ndarray) -> None:
        # src is a permutation of range(M * n_blocks) (every table[f, u] is a
        # permutation), so plain assignment gives each copy exactly one gradient.
        out.reshape(self.M * self.n_blocks, self.bsize)[src] = routed_grad.reshape(-1, self.bsize)


def _check_hidden(hidden) -> tuple[int, ...]:
    sizes = (hidden,) if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool) else hidden
    if not isinstance(sizes, (tuple, list)) or len(sizes) == 0:
        raise TypeError(f"hidden must be an int or a non-empty tuple of ints, got {hidden!r}")
    out = []
    for h in sizes:
        if isinstance(h, bool) or not isinstance(h, numbers.Integral):
            raise TypeError(f"hidden must be an int or a non-empty tuple of ints, got {hidden!r}")
        if h < 1:
            raise ValueError(f"hidden layer sizes must be >= 1, got hidden={hidden!r}")
        out.append(int(h))
    return tuple(out)


@dataclass(frozen=True)
class MLP(Model):
    """Multilayer perceptron with C logits, trained by minibatch SGD on fixed minibatches.

    Parameters
    ----------
    hidden : int or tuple of int
        Width of the hidden layer, or of each hidden layer in order (each >= 1).
    n_classes : int >= 2
        Output logits C.
    activation : {'relu', 'tanh'}
        Hidden nonlinearity.
    loss : {'cross_entropy', 'squared'}
        ``'cross_entropy'``: softmax and negative log-likelihood;
        ``'squared'``: ``0.5 ||z - onehot(y)||^2`` on the raw logits z.
    lr : float > 0
        Learning rate.
    momentum : float in [0, 1)
        Heavy-ball momentum ``v = momentum v + g;  p -= lr v`` (0: plain SGD).
    batch_size : int >= 1
        Examples per fixed minibatch (the last one may be smaller).
    weight_init : {'he', 'glorot', 'lecun'}
        Weights i.i.d. normal with variance ``2/fan_in``, ``2/(fan_in+fan_out)``
        or ``1/fan_in``; biases start at 0.  (Named ``weight_init`` because
        ``init`` is the method that draws the parameters.)
    weight_decay : float >= 0
        L2 penalty ``weight_decay/2 ||W||^2`` on the weight matrices (not the
        biases), added to the gradient before the momentum.

    Attributes
    ----------
    labels : 'raw'
        :func:`~algorithms.learning.train` passes the labels unchanged to
        :meth:`prepare`, which accepts class indices, or -1/+1 when C = 2.
    granularities : ('weight', 'neuron', 'tensor')
        Routing units: every entry; a neuron's incoming row and bias; one array.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.learning import train
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> model = MLP(hidden=8, n_classes=2, lr=0.1, batch_size=20)
    >>> run = train((X, y), model, epochs=30, seed=0)
    >>> {k: v.shape for k, v in run.params.items()}
    {'W1': (8, 5), 'b1': (8,), 'W2': (2, 8), 'b2': (2,)}
    >>> params = {k: v[None] for k, v in run.params.items()}    # one copy
    >>> bool(model.errors(params, X, y)[0] < 20)
    True
    """

    hidden: int | tuple = 64
    n_classes: int = 10
    activation: str = "relu"
    loss: str = "cross_entropy"
    lr: float = 0.05
    momentum: float = 0.0
    batch_size: int = 32
    weight_init: str = "he"
    weight_decay: float = 0.0

    name = "mlp"
    labels = "raw"

    def __post_init__(self):
        sizes = _check_hidden(self.hidden)
        if not isinstance(self.hidden, numbers.Integral):
            object.__setattr__(self, "hidden", sizes)        # lists become (hashable) tuples
        check_positive_int(self.n_classes, "n_classes", lo=2)
        if self.activation not in ACTIVATIONS:
            valid = ", ".join(map(repr, ACTIVATIONS))
            raise ValueError(f"unknown activation {self.activation!r}; valid: {valid}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; valid: {', '.join(map(repr, LOSSES))}")
        check_real(self.lr, "lr", lo=0.0, lo_open=True)
        m = check_real(self.momentum, "momentum", lo=0.0)
        if m >= 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {m}")
        check_positive_int(self.batch_size, "batch_size")
        if self.weight_init not in INITS:
            valid = ", ".join(map(repr, INITS))
            raise ValueError(f"unknown weight_init {self.weight_init!r}; valid: {valid}")
        check_real(self.weight_decay, "weight_decay", lo=0.0)

    # -- layout ---------------------------------------------------------------------
    @property
    def sizes(self) -> tuple[int, ...]:
        """Hidden layer widths as a tuple."""
        return _check_hidden(self.hidden)

    @property
    def n_layers(self) -> int:
        """Weight layers L (hidden layers + the output layer)."""
        return len(self.sizes) + 1

    def _names(self) -> list[str]:
        return [f"{p}{layer}" for layer in range(1, self.n_layers + 1) for p in ("W", "b")]

    def _widths(self, n_in: int) -> list[int]:
        return [n_in, *self.sizes, int(self.n_classes)]

    # -- the contract ---------------------------------------------------------------
    def init(self, n_in: int, rng) -> dict:
        """One copy: ``W_l`` float64 (out, in) with the ``weight_init`` variance; ``b_l`` zeros (out,)."""
        n_in = check_positive_int(n_in, "n_in")
        widths = self._widths(n_in)
        out = {}
        for layer in range(1, len(widths)):
            fan_in, fan_out = widths[layer - 1], widths[layer]
            var = {"he": 2.0 / fan_in, "glorot": 2.0 / (fan_in + fan_out), "lecun": 1.0 / fan_in}[
                self.weight_init
            ]
            out[f"W{layer}"] = np.sqrt(var) * rng.standard_normal((fan_out, fan_in))
            out[f"b{layer}"] = np.zeros(fan_out, dtype=FLOAT)
        return out

    def prepare(self, X, y, rng) -> MLPData:
        """Validate ``(X, y)`` and draw the run's fixed minibatches from ``rng``.

        ``X`` float64 (P, D); ``y`` (P,) class indices 0..C-1, or -1/+1 when
        C = 2.  One permutation of the examples is cut into consecutive
        minibatches of ``batch_size`` (the last may be smaller).
        """
        X, y = data_of((X, y), labels="raw")
        yi = class_labels(y, int(self.n_classes))
        P = X.shape[0]
        idx = np.asarray(rng.permutation(P), dtype=INDEX)
        bs = int(self.batch_size)
        ptr = np.append(np.arange(0, P, bs, dtype=INDEX), INDEX(P))
        return MLPData(X, yi, ptr, idx, np.ascontiguousarray(X[idx]), np.ascontiguousarray(yi[idx]))

    def n_factors(self, data) -> int:
        """Factors per epoch: the number of fixed minibatches."""
        return int(data.batch_ptr.size - 1)

    def units(self, granularity: str, n_in: int) -> tuple[dict, int]:
        """Routing unit of every parameter entry: ``({name: int64 array of its shape}, n_units)``.

        ``'weight'``: consecutive numbers across W1, b1, W2, b2, ... in C
        order; ``'neuron'``: layer-l neuron k (row ``W_l[k]`` and ``b_l[k]``),
        numbered layer by layer; ``'tensor'``: array i of W1, b1, W2, ... is
        unit i.

        Examples
        --------
        >>> unit_of, n = MLP(hidden=2, n_classes=2).units("neuron", 3)
        >>> n, unit_of["W1"].tolist(), unit_of["b2"].tolist()
        (4, [[0, 0, 0], [1, 1, 1]], [2, 3])
        """
        g = self.check_granularity(granularity)
        widths = self._widths(check_positive_int(n_in, "n_in"))
        unit_of = {}
        nxt = 0
        for layer in range(1, len(widths)):
            fan_in, fan_out = widths[layer - 1], widths[layer]
            if g == "weight":
                w = np.arange(nxt, nxt + fan_out * fan_in, dtype=INDEX)
                unit_of[f"W{layer}"] = w.reshape(fan_out, fan_in)
                nxt += fan_out * fan_in
                unit_of[f"b{layer}"] = np.arange(nxt, nxt + fan_out, dtype=INDEX)
                nxt += fan_out
            elif g == "neuron":
                rows = np.arange(nxt, nxt + fan_out, dtype=INDEX)
                unit_of[f"W{layer}"] = np.repeat(rows, fan_in).reshape(fan_out, fan_in)
                unit_of[f"b{layer}"] = rows
                nxt += fan_out
            else:
                unit_of[f"W{layer}"] = np.full((fan_out, fan_in), nxt, dtype=INDEX)
                unit_of[f"b{layer}"] = np.full(fan_out, nxt + 1, dtype=INDEX)
                nxt += 2
        return unit_of, nxt

    def new_state(self, params: dict) -> dict:
        """Momentum buffers, zeros shaped like ``params`` (leading copy axis); ``{}`` without momentum."""
        if float(self.momentum) == 0.0:
            return {}
        return {k: np.zeros_like(v, dtype=FLOAT) for k, v in params.items()}

    def epoch(self, params, state, data: MLPData, order, route, rng) -> dict:
        """One SGD pass over the minibatches in ``order``, batched over the M (routed) models.

        Parameters
        ----------
        params : dict of str to ndarray of float64, shapes (M, ...)
            Updated in place.
        state : dict
            From :meth:`new_state`; momentum buffers updated in place.
        data : MLPData
        order : ndarray of int64
            Minibatches to visit, in order.
        route : Route or None
            ``route.table`` uint (n_factors, n_units, M) and ``route.unit_of``
            (flattened C order) of the granularity the table was drawn for.
        rng : numpy Generator
            Unused (the rule is deterministic).

        Returns
        -------
        dict
            ``errors`` and ``loss``, float64 (M,): sums over the visited
            minibatches of routed model m's misclassified fraction and mean loss.
        """
        names = self._names()
        L = self.n_layers
        M = params[names[0]].shape[0]
        act, loss = self.activation, self.loss
        lr, mu, wd = float(self.lr), float(self.momentum), float(self.weight_decay)
        ptr, Xb, yb = data.batch_ptr, data.Xb, data.yb
        errors = np.zeros(M, dtype=FLOAT)
        losses = np.zeros(M, dtype=FLOAT)
        grads = {k: np.empty_like(params[k]) for k in names}
        if route is not None:
            gathers = {k: _Gather(route.unit_of[k], params[k].shape[1:], M) for k in names}
            table = route.table
            routed_grads = {k: np.empty_like(params[k]) for k in names}
        for f in np.asarray(order, dtype=INDEX).tolist():
            lo, hi = ptr[f], ptr[f + 1]
            X, y = Xb[lo:hi], yb[lo:hi]
            if route is None:
                models, gout = params, grads
            else:
                tf = table[f]
                srcs = {k: gathers[k].source(tf) for k in names}
                models = {k: gathers[k].gather(params[k], srcs[k]) for k in names}
                gout = routed_grads
            # forward + backward copy by copy with 2-D products (bit-exact vs M = 1)
            for m in range(M):
                Ws = [models[f"W{layer}"][m] for layer in range(1, L + 1)]
                bs = [models[f"b{layer}"][m] for layer in range(1, L + 1)]
                pres, acts = _forward(Ws, bs, X, act)
                per, dz = _loss_grad(pres[-1], y, loss)
                errors[m] += np.count_nonzero(pres[-1].argmax(axis=1) != y) / y.size
                losses[m] += per.mean()
                _backward(Ws, pres, acts, dz, act,
                          [gout[f"W{layer}"][m] for layer in range(1, L + 1)],
                          [gout[f"b{layer}"][m] for layer in range(1, L + 1)])
            if route is not None:
                for k in names:
                    gathers[k].scatter(routed_grads[k], srcs[k], grads[k])
            # optimizer step of every copy on its own gradient (elementwise, batched over M)
            for k in names:
                g = grads[k]
                if wd and k[0] == "W":
                    g += wd * params[k]
                if mu:
                    v = state[k]
                    v *= mu
                    v += g
                    g = v
                params[k] -= lr * g
        return {"errors": errors, "loss": losses}

    # -- evaluation -----------------------------------------------------------------
    def _check_X(self, params, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D array (P, D), got shape {X.shape}")
        if not np.issubdtype(X.dtype, np.number) or np.iscomplexobj(X):
            raise TypeError(f"X must be real numbers, got dtype {X.dtype}")
        D = params["W1"].shape[-1]
        if X.shape[1] != D:
            raise ValueError(f"X has {X.shape[1]} columns but the model's W1 expects {D} inputs")
        return np.ascontiguousarray(X, dtype=FLOAT)

    def scores(self, params, X) -> np.ndarray:
        """Class logits of each copy, float64 (M, P, C)."""
        X = self._check_X(params, X)
        L = self.n_layers
        M = params["W1"].shape[0]
        out = np.empty((M, X.shape[0], params[f"W{L}"].shape[1]), dtype=FLOAT)
        for m in range(M):
            Ws = [params[f"W{layer}"][m] for layer in range(1, L + 1)]
            bs = [params[f"b{layer}"][m] for layer in range(1, L + 1)]
            out[m] = _forward(Ws, bs, X, self.activation)[0][-1]
        return out

    def errors(self, params, X, y) -> np.ndarray:
        """Misclassified rows of (X, y) per copy, int64 (M,); y class indices (or -1/+1 for C = 2)."""
        yi = class_labels(y, int(self.n_classes))
        z = self.scores(params, X)
        if yi.shape != (z.shape[1],):
            raise ValueError(f"y must have shape ({z.shape[1]},) (one label per row of X), got {yi.shape}")
        return (z.argmax(axis=2) != yi[None, :]).sum(axis=1).astype(INDEX)

    def vote(self, params, X) -> np.ndarray:
        """Ensemble labels: argmax of the copies' mean logits, int64 (P,) class indices."""
        return self.scores(params, X).mean(axis=0).argmax(axis=1).astype(INDEX)

    def gen_errors(self, params, problem) -> None:
        """No closed form: copies are scored on held-out data instead."""
        return None
