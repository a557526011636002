"""current_scope(): the running prediction's context and metrics, found through a context variable."""

import contextvars
import threading
import warnings
from typing import Any, Callable, Dict, Optional

_VALID_MODES = ("replace", "incr", "append")

MetricSink = Callable[[str, str, Any, str], None]


class Scope:
    """What a running prediction can reach: its request `context` and a metric recorder."""

    def __init__(self, prediction_id: Optional[str], context: Dict[str, str], sink: Optional[MetricSink]) -> None:
        self.prediction_id = prediction_id
        self._context = dict(context)
        self._sink = sink

    @property
    def context(self) -> Dict[str, str]:
        return self._context

    def record_metric(self, name: str, value: Any, mode: str = "replace") -> None:
        """Adds a metric to the prediction's `metrics`: replace (default), incr (add), append (to a list)."""
        if not isinstance(name, str) or not name:
            raise ValueError("metric name must be a non-empty string")
        if mode not in _VALID_MODES:
            raise ValueError(f"metric mode must be one of {', '.join(_VALID_MODES)}, got {mode!r}")
        if mode == "incr" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"metric '{name}': mode 'incr' needs a number, got {type(value).__name__}")
        if self._sink is None or self.prediction_id is None:
            return  # outside a prediction (setup, tests): nothing to attach the metric to
        self._sink(self.prediction_id, name, value, mode)


_EMPTY = Scope(None, {}, None)
_current: contextvars.ContextVar[Scope] = contextvars.ContextVar("kiln_scope", default=_EMPTY)

# Threads started by user code do not inherit context variables; with a single prediction running,
# attribute their metrics and logs to it.
_running_lock = threading.Lock()
_running: Dict[str, Scope] = {}


def current_scope() -> Scope:
    """The scope of the prediction running in this thread/task (an empty scope outside predictions)."""
    scope = _current.get()
    if scope is _EMPTY:
        with _running_lock:
            if len(_running) == 1:
                return next(iter(_running.values()))
    return scope


def enter_scope(scope: Scope) -> contextvars.Token:
    if scope.prediction_id is not None:
        with _running_lock:
            _running[scope.prediction_id] = scope
    return _current.set(scope)


def exit_scope(scope: Scope, token: Optional[contextvars.Token]) -> None:
    if scope.prediction_id is not None:
        with _running_lock:
            _running.pop(scope.prediction_id, None)
    if token is not None:
        try:
            _current.reset(token)
        except ValueError:  # token made in another context (async generator finalisation)
            _current.set(_EMPTY)


def current_prediction_id() -> Optional[str]:
    return current_scope().prediction_id


_warned_emit = False


def emit_metric(name: str, value: Any) -> None:
    """Deprecated Cog API: use current_scope().record_metric(name, value)."""
    global _warned_emit
    if not _warned_emit:
        _warned_emit = True
        warnings.warn("emit_metric() is deprecated; use current_scope().record_metric()", FutureWarning,
                      stacklevel=2)
    current_scope().record_metric(name, value)
