"""current_scope(): the running prediction's context and metrics, found through a context variable."""

import contextvars
import threading
import warnings
from typing import Any, Callable, Dict, Optional

# "increment" is coglet's long spelling of "incr"
_MODES = {"replace": "replace", "incr": "incr", "increment": "incr", "append": "append"}
_VALUE_TYPES = ((bool, "bool"), (int, "int"), (float, "float"), (str, "str"), (list, "list"), (dict, "dict"))

MetricSink = Callable[[str, str, Any, str], None]


def _value_type(value: Any) -> str:
    for klass, name in _VALUE_TYPES:  # bool first: it is an int to Python
        if isinstance(value, klass):
            return name
    raise TypeError(f"Unsupported metric value type: {type(value).__name__}. "
                    "Expected bool, int, float, str, list, or dict.")


def check_metric_name(name: Any) -> str:
    """Metric names are non-empty strings; dots nest (`timing.preprocess`), so no segment may be empty."""
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a string, got {type(name).__name__}")
    if not name or any(not segment.strip() for segment in name.split(".")):
        raise ValueError(f"invalid metric name {name!r}: it must be non-empty, and each dot-separated part "
                         "must be non-empty (e.g. 'timing.preprocess')")
    return name


class MetricRecorder:
    """`current_scope().metrics`: set with `metrics[k] = v` or record(k, v, mode), delete with `del metrics[k]`.

    A key keeps the type of its first value until deleted (changing it raises TypeError), `incr` needs a
    number, and a dotted key cannot both hold a value and be the parent of another key.
    """

    def __init__(self, scope: "Scope") -> None:
        self._scope = scope
        self._types: Dict[str, str] = {}
        self._lock = threading.Lock()

    def record(self, key: str, value: Any, mode: Optional[str] = None) -> None:
        resolved = _MODES.get(mode or "replace")
        if resolved is None:
            raise TypeError(f"Invalid metric mode: {mode!r}. Expected 'replace', 'incr', or 'append'.")
        check_metric_name(key)
        if value is None:
            self.delete(key)
            return
        kind = _value_type(value)
        if resolved == "incr" and kind not in ("int", "float"):
            raise TypeError(f"metric '{key}': mode 'incr' needs an int or float, got {kind}")
        with self._lock:
            if resolved == "append":
                pass  # the key holds a list of appended values; their own types may differ
            else:
                existing = self._types.get(key)
                if existing is not None and existing != kind and not (resolved == "incr" and existing in ("int", "float")
                                                                      and kind in ("int", "float")):
                    raise TypeError(f"Metric '{key}' has type {existing}, cannot set to {kind} without deleting first")
            self._check_nesting(key)
            self._types[key] = "list" if resolved == "append" else kind
        self._scope._send(key, value, resolved)

    def delete(self, key: str) -> None:
        check_metric_name(key)
        with self._lock:
            self._types.pop(key, None)
        self._scope._send(key, None, "replace")

    def _check_nesting(self, key: str) -> None:
        parts = key.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if parent in self._types:
                raise TypeError(f"metric '{key}': '{parent}' already holds a {self._types[parent]} value; "
                                f"delete it before nesting keys under it")
        prefix = key + "."
        if any(k.startswith(prefix) for k in self._types):
            raise TypeError(f"metric '{key}' already has nested keys ({prefix}...); delete them first")

    def __setitem__(self, key: str, value: Any) -> None:
        self.record(key, value)

    def __delitem__(self, key: str) -> None:
        self.delete(key)

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def __repr__(self) -> str:
        return f"MetricRecorder(keys={len(self._types)})"


class Scope:
    """What a running prediction can reach: its request `context` and its metrics."""

    def __init__(self, prediction_id: Optional[str], context: Dict[str, str], sink: Optional[MetricSink]) -> None:
        self.prediction_id = prediction_id
        self._context = dict(context)
        self._sink = sink
        self.metrics = MetricRecorder(self)

    @property
    def context(self) -> Dict[str, str]:
        return self._context

    def record_metric(self, name: str, value: Any, mode: Optional[str] = "replace") -> None:
        """Adds a metric to the prediction's `metrics`: replace (default), incr (add), append (to a list)."""
        self.metrics.record(name, value, mode)

    def _send(self, name: str, value: Any, mode: str) -> None:
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
