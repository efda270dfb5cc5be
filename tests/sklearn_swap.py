"""A pytest plugin that puts lossfuse.metrics' functions in the place of scikit-learn's of the
same names, before any test module imports them: ``python -m pytest -p sklearn_swap --pyargs
sklearn.metrics.tests.test_regression`` (with ``tests`` on ``sys.path``) runs scikit-learn's
own tests on lossfuse's functions.  ``LOSSFUSE_SKLEARN_SWAP=0`` leaves scikit-learn alone, for
the run to compare with.  `test_sklearn_suite.py` runs both."""

import os

import sklearn.metrics
import sklearn.metrics._classification
import sklearn.metrics._regression

from lossfuse import metrics

#: the functions swapped: every metric lossfuse.metrics has
SWAPPED = sorted(name for name in metrics.__all__
                 if name not in ("InvalidParameterError", "UndefinedMetricWarning"))

if os.environ.get("LOSSFUSE_SKLEARN_SWAP", "1") != "0":
    for name in SWAPPED:
        for module in (sklearn.metrics, sklearn.metrics._regression,
                       sklearn.metrics._classification):
            if hasattr(module, name):
                setattr(module, name, getattr(metrics, name))


def pytest_report_header(config):
    """Says, at the top of the run, which functions are lossfuse's."""
    if os.environ.get("LOSSFUSE_SKLEARN_SWAP", "1") == "0":
        return "scikit-learn's metrics: its own"
    same = [n for n in SWAPPED if getattr(sklearn.metrics, n) is getattr(metrics, n)]
    return f"scikit-learn's metrics: lossfuse's {len(same)}: {' '.join(same)}"
