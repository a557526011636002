"""kiln's implementation of Cog's Python SDK (standard library only): predictors written for Cog run unchanged."""

from .decorators import concurrent, streaming
from .exceptions import CancelationException, ExperimentalFeatureWarning
from .model import BaseModel
from .opaque import Opaque
from .predictor import BasePredictor, BaseRunner
from .scope import current_scope, emit_metric
from .training import TrainingOutput
from .types import (
    AsyncConcatenateIterator,
    AsyncIterator,
    ConcatenateIterator,
    File,
    Input,
    Path,
    Secret,
    URLFile,
    URLPath,
    Weights,
)

__version__ = "0.1.0+kiln"

__all__ = [
    "AsyncConcatenateIterator",
    "AsyncIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "File",
    "Input",
    "Opaque",
    "Path",
    "Secret",
    "TrainingOutput",
    "URLFile",
    "URLPath",
    "Weights",
    "concurrent",
    "current_scope",
    "emit_metric",
    "streaming",
    "__version__",
]
