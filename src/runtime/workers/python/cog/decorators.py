"""@cog.streaming and @cog.concurrent(max=N): markers kiln reads when it loads the predictor."""

from typing import Any, Callable, Optional, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

STREAMING_ATTR = "__cog_streaming__"
CONCURRENCY_ATTR = "__cog_concurrency__"


def streaming(fn: _F) -> _F:
    """Marks predict() (or the class) as streaming its iterator output as it is produced."""
    try:
        setattr(fn, STREAMING_ATTR, True)
    except (AttributeError, TypeError):
        pass
    return fn


def concurrent(fn: Optional[Callable[..., Any]] = None, *, max: int = 1) -> Any:  # noqa: A002 - Cog's keyword
    """`@concurrent(max=N)` on the predictor class or its async predict(): N predictions may run at once.

    It replaces `concurrency.max` of cog.yaml (Cog 0.21+); COG_MAX_CONCURRENCY, when set, still overrides it.
    """
    if isinstance(max, bool) or not isinstance(max, int) or max < 1:
        raise ValueError(f"@concurrent(max=...) needs a positive integer, got {max!r}")

    def mark(target: Any) -> Any:
        setattr(target, CONCURRENCY_ATTR, max)
        return target

    return mark(fn) if fn is not None else mark


def marker(obj: Any, method: Optional[Any], attr: str) -> Any:
    """The marker set on the method, else on the class/function itself."""
    for holder in (method, obj):
        if holder is None:
            continue
        target = getattr(holder, "__func__", holder)
        value = getattr(target, attr, None)
        if value is not None:
            return value
    return None
