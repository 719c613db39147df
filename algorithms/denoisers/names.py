"""One-line names of priors and channels (the CLI syntax; ``identify()`` round-trips)."""

from __future__ import annotations

from .channels import GaussianChannel, NoisySignChannel, SignChannel
from .priors import BinaryPrior, DiscretePrior, GaussBernoulli, GaussianPrior

_PRIOR_FORMS = (
    "gaussian[:var[,mean]]",
    "binary[:p_plus]",
    "levels:l0,l1,...[@w0,w1,...]",
    "gauss-bernoulli:rho[,var[,mean]]",
)
_CHANNEL_FORMS = ("gaussian:noise", "sign", "noisy_sign:noise")


def _numbers(text: str, where: str) -> list[float]:
    try:
        return [float(t) for t in text.split(",") if t.strip() != ""]
    except ValueError:
        raise ValueError(f"cannot read numbers in {where!r}") from None


def from_name(text: str, kind: str | None = None):
    """Parse a prior or channel from its one-line form (the CLI syntax; ``identify()`` round-trips).

    Parameters
    ----------
    text : str
        Priors: ``gaussian[:var[,mean]]``, ``binary[:p_plus]``, ``levels:-1,0,1`` (uniform
        weights) or ``levels:-1,0,1@0.25,0.5,0.25``, ``gauss-bernoulli:rho[,var[,mean]]``.
        Channels: ``gaussian:noise``, ``sign``, ``noisy_sign:noise``.
    kind : {"prior", "channel", None}
        Restrict the parse. With None, ``gaussian`` alone (or with two numbers) is the prior
        and ``gaussian:noise`` is the channel.

    Returns
    -------
    Prior or Channel

    Examples
    --------
    >>> from_name("gaussian"), from_name("gaussian:0.01")
    (GaussianPrior<gaussian>, GaussianChannel<gaussian:0.01>)
    >>> from_name("gaussian:2", kind="prior").var
    2.0
    >>> from_name("gauss-bernoulli:0.1").rho
    0.1
    """
    if kind not in (None, "prior", "channel"):
        raise ValueError(f"kind must be 'prior', 'channel' or None, got {kind!r}")
    raw = str(text).strip()
    name, _, arg = raw.partition(":")
    name = name.strip().lower().replace("_", "-")
    valid = (
        f"valid priors: {', '.join(_PRIOR_FORMS)}; valid channels: {', '.join(_CHANNEL_FORMS)}"
    )
    try:
        if name == "gaussian":
            nums = _numbers(arg, raw)
            as_channel = kind == "channel" or (kind is None and len(nums) == 1)
            if as_channel:
                if len(nums) != 1:
                    raise ValueError(f"channel {raw!r} needs exactly one noise value")
                return GaussianChannel(nums[0])
            if len(nums) > 2:
                raise ValueError(f"prior {raw!r} takes at most var,mean")
            return GaussianPrior(*nums)
        if kind != "channel":
            if name == "binary":
                nums = _numbers(arg, raw)
                if len(nums) > 1:
                    raise ValueError(f"prior {raw!r} takes at most p_plus")
                return BinaryPrior(*nums)
            if name == "levels":
                lv, _, wt = arg.partition("@")
                levels = _numbers(lv, raw)
                weights = _numbers(wt, raw) if wt.strip() else None
                return DiscretePrior(levels, weights)
            if name == "gauss-bernoulli":
                nums = _numbers(arg, raw)
                if not 1 <= len(nums) <= 3:
                    raise ValueError(f"prior {raw!r} needs rho[,var[,mean]]")
                return GaussBernoulli(*nums)
        if kind != "prior":
            if name == "sign":
                if arg.strip():
                    raise ValueError(f"channel {raw!r} takes no parameter (use noisy_sign:noise)")
                return SignChannel()
            if name == "noisy-sign":
                nums = _numbers(arg, raw)
                if len(nums) != 1:
                    raise ValueError(f"channel {raw!r} needs exactly one noise value")
                return NoisySignChannel(nums[0])
    except ValueError as err:
        raise ValueError(f"{err} ({valid})") from None
    raise ValueError(f"unknown {kind or 'prior or channel'} {raw!r}; {valid}")
