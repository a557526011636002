"""What a prediction's user code produced, and the shared steps around it (streaming, final message)."""

import collections.abc
import inspect
import json
from typing import Any, Optional

from ..annotations import TypeInfo
from .channel import Channel
from .codec import check_output, encode_output

STREAMED = object()  # sentinel result: chunks were already sent


class Outcome:
    def __init__(self, kind: str, value: Any = None, error: Optional[str] = None) -> None:
        self.kind = kind  # done | failed | canceled
        self.value = value
        self.error = error


def should_stream(info: TypeInfo, result: Any) -> bool:
    """Iterator annotations stream; a generator returned under an `Any` annotation streams too."""
    if info.iterator:
        return True
    return info.kind in ("any", "none") and (inspect.isgenerator(result) or inspect.isasyncgen(result))


def is_lazy_sequence(result: Any) -> bool:
    """A generator returned where a list was declared: collected into a list."""
    return inspect.isgenerator(result) or (isinstance(result, collections.abc.Iterator)
                                           and not hasattr(result, "read"))


def send_chunk(channel: Channel, prediction_id: str, chunk: Any, info: Optional[TypeInfo] = None) -> None:
    """One yielded item, checked against the iterator's item type (`info` is the whole output's TypeInfo)."""
    if info is not None and info.iterator and info.item is not None:
        chunk = check_output(info.item, chunk, "output chunk")
    channel.send({"type": "output", "id": prediction_id, "chunk": encode_output(chunk)})


def send_outcome(channel: Channel, prediction_id: str, outcome: Outcome, wait: bool = False) -> bool:
    """The prediction's last frame; with `wait` it may wait for others (Channel.send_end): True then."""
    if outcome.kind == "done":
        if outcome.value is STREAMED:
            return channel.send_end({"type": "done", "id": prediction_id}, wait)
        try:
            encoded = encode_output(outcome.value)
            return channel.send_end({"type": "done", "id": prediction_id, "output": encoded}, wait)
        except (ValueError, TypeError) as err:
            return channel.send_end({"type": "failed", "id": prediction_id, "error": str(err)}, wait)
    if outcome.kind == "canceled":
        return channel.send_end({"type": "canceled", "id": prediction_id}, wait)
    error = outcome.error or "prediction failed"
    return channel.send_end({"type": "failed", "id": prediction_id, "error": error}, wait)


def check_metric_value(name: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"metric '{name}': value must be JSON-serializable ({err})") from None
