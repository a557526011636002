"""Server -> worker frames, line by line (src/runtime/protocol.ts): a JSON object per line, and a predict frame
naming `rawInputs` is followed by one line per big input value (its JSON text), put in place before delivery."""

import json
import sys
from typing import Any, Callable, Dict, List, Optional

_decoder = json.JSONDecoder()
_decode = _decoder.decode  # json.loads(bytes) sniffs the encoding of every frame first
# decode() also skips whitespace with two regex matches per call: a stripped frame has none.
_raw_decode = _decoder.raw_decode


def attachment_value(raw: bytes, size: int) -> Any:
    """One attachment line's value. A string literal without escapes (the usual big input) is decoded straight
    from the bytes, never through the JSON parser; anything else is parsed once."""
    if raw.endswith(b"\n"):
        size_seen = len(raw) - 1
    else:
        size_seen = len(raw)
    if size_seen != size:
        raise ValueError(f"input attachment of {size_seen} bytes, the frame said {size}")
    view = memoryview(raw)[:size]
    if size >= 2 and raw[0] == 0x22 and raw[size - 1] == 0x22 and raw.find(b"\\", 0, size) < 0:
        return str(view[1:size - 1], "utf-8")
    return _decode(str(view, "utf-8"))


def _place(root: Any, path: List[Any], value: Any) -> None:
    at = root
    for key in path[:-1]:
        at = at[key]
    at[path[-1]] = value


class FrameReader:
    """Feed it lines of fd 3 (with or without their newline); it calls `deliver` with each whole message."""

    def __init__(self, deliver: Callable[[Dict[str, Any]], None]) -> None:
        self._deliver = deliver
        self._message: Optional[Dict[str, Any]] = None
        self._waiting: List[Dict[str, Any]] = []
        self._broken = False

    def __call__(self, raw: bytes) -> None:
        if self._message is not None:
            self._attachment(raw)
            return
        raw = raw.strip()
        if not raw:
            return
        try:
            text = raw.decode("utf-8")
            message, end = _raw_decode(text)
            if end != len(text):
                raise ValueError("extra data after the JSON value")
        except ValueError:  # UnicodeDecodeError and JSONDecodeError included
            sys.__stderr__.write(f"kiln worker: ignoring a malformed frame: {raw[:200]!r}\n")
            return
        if not isinstance(message, dict):
            return
        raw_inputs = message.pop("rawInputs", None)
        if raw_inputs:
            self._message, self._waiting, self._broken = message, list(raw_inputs), False
            return
        self._deliver(message)

    def _attachment(self, raw: bytes) -> None:
        message, spec = self._message, self._waiting.pop(0)
        assert message is not None
        try:
            _place(message["input"], spec["path"], attachment_value(raw, spec["bytes"]))
        except (ValueError, KeyError, IndexError, TypeError) as err:
            # Like a malformed frame: reported and dropped (the lines that belong to it are still consumed).
            sys.__stderr__.write(f"kiln worker: ignoring a frame with a malformed input attachment: {err}\n")
            self._broken = True
        if not self._waiting:
            self._message = None
            if not self._broken:
                self._deliver(message)
