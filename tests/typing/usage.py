"""Typed use of lossfuse's public API, for type checkers and at run time.

``mypy --strict tests/typing/usage.py`` must pass: each result is assigned to a variable
annotated with the type the API promises (a float for a reduced loss, an array of y_pred's
dtype for ``reduction="none"``, ...).  tests/test_typing.py also runs this file, and the
`same` checks confirm that the values really have those types.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, List, Mapping, Tuple

import dask.array as da
import numpy as np
import torch
from numpy.typing import NDArray

import lossfuse as lf
import lossfuse.dask as lfd
import lossfuse.lightgbm as lfl
import lossfuse.torch as lft
import lossfuse.xgboost as lfx
from lossfuse import metrics

F64 = NDArray[np.float64]
F32 = NDArray[np.float32]
Floats = NDArray[np.floating[Any]]


def same(value: object, kind: type, dtype: Any = None) -> None:
    """At run time: `value` is a `kind` (of `dtype`, for arrays), as its annotation says."""
    assert type(value) is kind, (type(value), kind)
    if dtype is not None:
        assert isinstance(value, np.ndarray) and value.dtype == dtype, (value, dtype)


def package() -> None:
    names: List[str] = lf.available_losses()
    info: Dict[str, Any] = lf.kernel_info()
    n: int = lf.get_num_threads()
    lf.set_num_threads(2)
    lf.set_num_threads(np.int64(2))
    lf.set_num_threads(None)
    with lf.threads(1) as inside:
        one: int = inside
    block: contextlib.AbstractContextManager[int] = lf.threads(n)
    same(names, list)
    same(info, dict)
    same(n, int)
    same(one, int)
    del block


def losses() -> None:
    # every documented parameter type checks: numbers, class weights, None
    huber: lf.Loss = lf.get_loss("huber", delta=2.0)
    losses = [huber, lf.get_loss("tweedie", power=1.5), lf.get_loss("pinball", alpha=0.9),
              lf.get_loss("smooth_l1", beta=0), lf.get_loss("bce", pos_weight=np.float32(2)),
              lf.Loss("pseudo_huber", delta=np.int64(2))]
    ce: lf.CrossEntropyLoss = lf.get_loss("cross_entropy", class_weight=[1.0, 2.0],
                                          ignore_index=-100, label_smoothing=0.1)
    ce2: lf.CrossEntropyLoss = lf.CrossEntropyLoss(class_weight=np.array([1.0, 2.0]),
                                                   ignore_index=None)
    any_case: str = "SoftMax"                  # a name known at run time: a Loss
    by_name: lf.Loss = lf.get_loss(any_case, ignore_index=np.int16(3))
    name: str = huber.name
    params: Mapping[str, Any] = huber.params
    same(huber, lf.Loss)
    same(ce, lf.CrossEntropyLoss)
    same(ce2, lf.CrossEntropyLoss)
    same(by_name, lf.CrossEntropyLoss)
    same(name, str)
    same(params["delta"], float)
    assert len(losses) == 6

    y, p = np.array([0.0, 1.0, 2.0]), np.array([0.5, 3.0, 2.0])
    p32 = p.astype(np.float32)
    w = [1.0, 2.0, 1.0]

    # reduced: a float; "none": an array of y_pred's dtype (a float array otherwise)
    mean: float = huber(y, p)
    total: float = huber(y, p, sample_weight=w, reduction="sum", n_threads=1)
    each: F64 = huber(y, p, reduction="none")
    each32: F32 = huber(y, p32, reduction="none")
    from_lists: Floats = huber([0, 1, 2], [0.5, 3, 2], reduction="none")
    same(mean, float)
    same(total, float)
    same(each, np.ndarray, np.float64)
    same(each32, np.ndarray, np.float32)
    same(from_lists, np.ndarray, np.float64)

    value: float = huber.loss(y, p)
    out = np.empty(3)
    written: F64 = huber.loss(y, p, reduction="none", loss_out=out)
    same(value, float)
    same(written, np.ndarray, np.float64)
    assert written is out
    per_group: F64 = huber.loss(y, p32, groups=np.array([0, 1, 0]))
    group_sums: F64 = huber.loss(y, p, groups=[0, 0, 1], n_groups=3, reduction="sum")
    same(per_group, np.ndarray, np.float64)
    same(group_sums, np.ndarray, np.float64)

    g: F64 = huber.gradient(y, p)
    g32: F32 = huber.gradient(y, p32, reduction="sum", gradient_out=np.empty(3, np.float32))
    g_any: Floats = huber.gradient(y.tolist(), p.tolist())
    same(g, np.ndarray, np.float64)
    same(g32, np.ndarray, np.float32)
    same(g_any, np.ndarray, np.float64)

    # loss_gradient: (float, array) reduced, (array, array) for "none"
    pair: Tuple[float, F64] = huber.loss_gradient(y, p)
    loss_sum, grad = huber.loss_gradient(y, p, reduction="sum")
    s: float = loss_sum
    gs: F64 = grad
    per_element: Tuple[F32, F32] = huber.loss_gradient(y, p32, reduction="none")
    same(pair[0], float)
    same(pair[1], np.ndarray, np.float64)
    same(s, float)
    same(gs, np.ndarray, np.float64)
    same(per_element[0], np.ndarray, np.float32)

    gh: Tuple[F64, F64] = huber.gradient_hessian(y, p, hessian_out=np.empty(3))
    gh_list: Tuple[Floats, Floats] = huber.gradient_hessian([0.0], [1.0], reduction="none")
    same(gh[1], np.ndarray, np.float64)
    same(gh_list[0], np.ndarray, np.float64)

    # a reduction held in a variable of the Literal type: the union of both results
    for reduction in ("mean", "none"):
        either: float | Floats = huber(y, p, reduction=reduction)
        same(either, float if reduction == "mean" else np.ndarray)

    # cross_entropy: logits (n, K), class indices or probabilities
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    ce_mean: float = ce(np.array([0, 1]), logits)
    rows: F64 = ce.loss(np.array([0, 1]), logits, reduction="none")
    soft: Tuple[float, F64] = ce2.loss_gradient(np.array([[0.5, 0.5], [0.0, 1.0]]), logits)
    same(ce_mean, float)
    same(rows, np.ndarray, np.float64)
    same(soft[0], float)


def regression_metrics() -> None:
    y, p = [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]
    y2, p2 = [[0.5, 1.0], [-1.0, 1.0]], [[0.0, 2.0], [-1.0, 2.0]]
    w = np.array([1.0, 2.0, 1.0, 1.0])
    scores: List[float] = [
        metrics.mean_squared_error(y, p),
        metrics.mean_squared_error(y2, p2, multioutput=[0.3, 0.7]),
        metrics.root_mean_squared_error(y, p, sample_weight=w),
        metrics.mean_absolute_error(y2, p2, multioutput="uniform_average"),
        metrics.mean_pinball_loss(y, p, alpha=0.9),
        metrics.mean_tweedie_deviance([1.0, 2.0], [1.5, 1.5], power=1.5),
        metrics.mean_poisson_deviance([1.0, 2.0], [1.5, 1.5]),
        metrics.mean_gamma_deviance([1.0, 2.0], [1.5, 1.5], sample_weight=[1, 2]),
        metrics.log_loss(["spam", "ham"], [[0.1, 0.9], [0.8, 0.2]]),
        metrics.log_loss([0, 1, 1], np.array([0.2, 0.7, 0.9]), normalize=False,
                         labels=[0, 1]),
    ]
    raw: List[Floats] = [
        metrics.mean_squared_error(y2, p2, multioutput="raw_values"),
        metrics.root_mean_squared_error(y2, p2, multioutput="raw_values"),
        metrics.mean_absolute_error(y2, p2, multioutput="raw_values"),
        metrics.mean_pinball_loss(y2, p2, multioutput="raw_values"),
    ]
    for score in scores:
        same(score, float)
    for r in raw:
        same(r, np.ndarray, np.float64)
    error: type[ValueError] = metrics.InvalidParameterError
    assert issubclass(error, TypeError)


def adapters() -> None:
    # PyTorch
    mse: lft.LossfuseLoss = lft.loss("squared_error", reduction="sum")
    ce: lft.LossfuseLoss = lft.LossfuseLoss("cross_entropy",
                                            class_weight=torch.tensor([1.0, 2.0]))
    x = torch.tensor([0.5, 3.0], requires_grad=True)
    value: torch.Tensor = mse(x, torch.tensor([0.0, 1.0]))
    rows: torch.Tensor = ce.forward(torch.zeros(2, 2), torch.tensor([0, 1]))
    same(value, torch.Tensor)
    same(rows, torch.Tensor)

    # Dask
    y = da.from_array(np.arange(4.0), chunks=2)
    lazy: da.Array = lfd.loss("huber", y, y + 0.5, delta=2.0)
    lazy_pair: Tuple[da.Array, da.Array] = lfd.loss_gradient("mse", y, np.zeros(4),
                                                             reduction="none")
    by_class: da.Array = lfd.loss("cross_entropy", np.array([0, 1]), da.zeros((2, 3), chunks=1),
                                  class_weight=[1.0, 2.0, 3.0], label_smoothing=0.1)
    same(lazy, da.Array)
    same(by_class, da.Array)
    same(lazy_pair[1], da.Array)

    # LightGBM and XGBoost
    labels, raw = np.array([0.0, 1.0, 1.0]), np.array([0.2, -0.1, 0.4])
    lgb_objective: lfl.LightGBMObjective = lfl.objective("huber", delta=1.0)
    xgb_objective: lfx.XGBoostObjective = lfx.objective("binary_cross_entropy")
    lgb_gh: Tuple[F64, F64] = lgb_objective(labels, raw, [1.0, 1.0, 2.0])
    xgb_gh: Tuple[F64, F64] = xgb_objective(labels, raw, sample_weight=None)
    multiclass: lfl.LightGBMObjective = lfl.objective("softmax", class_weight=[1.0, 2.0])
    # the start is a float, or class scores for cross_entropy; a name held in a str: either
    start: float = lfl.init_score("poisson", labels + 1)
    starts: F64 = lfx.init_score("cross_entropy", [0, 1, 1], num_class=2)
    name: str = "multinomial"
    either: float | F64 = lfl.init_score(name, [0, 1, 1], class_weight=[1.0, 3.0])
    same(lgb_gh[0], np.ndarray, np.float64)
    same(xgb_gh[1], np.ndarray, np.float64)
    same(multiclass, lfl.LightGBMObjective)
    same(start, float)
    same(starts, np.ndarray, np.float64)
    same(either, np.ndarray, np.float64)


def scoring() -> None:
    import pandas as pd  # type: ignore[import-untyped]
    frame = pd.DataFrame({"y": [0.0, 1.0], "p": [0.5, 1.0], "g": ["a", "b"]})
    table: Any = lf.score(frame, ["huber", lf.get_loss("mse")], y_true="y", y_pred="p",
                          by="g")
    same(table, pd.DataFrame)


def main() -> None:
    package()
    losses()
    scoring()
    regression_metrics()
    adapters()


if __name__ == "__main__":
    main()
