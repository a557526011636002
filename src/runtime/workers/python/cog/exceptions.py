"""Exceptions and warnings Cog predictors import from `cog`."""


class CancelationException(Exception):
    """Raised inside a running predictor when its prediction is canceled.

    Like Cog, this derives from Exception: a broad `except Exception` in user code can swallow it, in which
    case the prediction still ends as canceled once predict() returns.
    """


class ExperimentalFeatureWarning(Warning):
    """Warns about features whose behaviour may change (kept for import compatibility with Cog)."""


class SchemaError(Exception):
    """A predictor signature kiln cannot turn into a schema (unsupported type, bad constraint...)."""
