"""kiln's implementation of Cog's Python SDK (standard library only): predictors written for Cog run unchanged."""

from .exceptions import CancelationException, ExperimentalFeatureWarning
from .model import BaseModel
from .predictor import BasePredictor, BaseRunner
from .scope import current_scope, emit_metric
from .types import AsyncConcatenateIterator, ConcatenateIterator, File, Input, Path, Secret

__version__ = "0.1.0+kiln"

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "File",
    "Input",
    "Path",
    "Secret",
    "current_scope",
    "emit_metric",
    "__version__",
]
