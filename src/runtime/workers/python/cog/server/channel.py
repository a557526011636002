"""Worker -> server messages: NDJSON frames on fd 4 (big outputs as attachments), written whole under a lock so
frames never interleave."""

import json
import os
import signal
import threading
from typing import Any, Dict, List, Optional


def _dumps(value: Any) -> str:
    # ensure_ascii keeps frames valid even when user text holds lone surrogates
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def encode(message: Dict[str, Any]) -> bytes:
    return (_dumps(message) + "\n").encode("ascii")


# Outputs (and chunks) this large follow their frame as an attachment (src/runtime/protocol.ts): the
# server keeps those bytes as they are instead of parsing one huge line.
RAW_ATTACHMENT_MIN_BYTES = 256 * 1024
_ATTACHABLE = {"done": "output", "output": "chunk"}


def encode_parts(message: Dict[str, Any]) -> List[bytes]:
    """The bytes for one message: a frame, or a frame and its attachment. The value is serialized once."""
    field = _ATTACHABLE.get(message.get("type", ""))
    if field is None or field not in message:
        return [encode(message)]
    value = _dumps(message[field])
    head = {k: v for k, v in message.items() if k != field}
    if len(value) < RAW_ATTACHMENT_MIN_BYTES:
        return [(_dumps(head)[:-1] + ',"' + field + '":' + value + "}\n").encode("ascii")]
    head["rawField"] = field
    head["rawBytes"] = len(value)  # ASCII: one byte per character
    return [encode(head), value.encode("ascii")]


class Channel:
    """Writes go straight to the pipe from the sending thread (no hand-off: lowest latency).

    The sync worker cancels by raising from a SIGUSR1 handler in the main thread; `guard_signal` blocks
    that signal while a frame is written, so a cancel can never leave half a frame on the pipe.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._held: Optional[List[bytes]] = []  # logs written before `loaded` wait for it
        self.guard_signal: Optional[int] = None

    def send(self, message: Dict[str, Any]) -> None:
        self._write(*encode_parts(message))

    def send_log(self, prediction_id: Optional[str], source: str, data: str) -> None:
        frame = encode({"type": "log", "id": prediction_id, "source": source, "data": data})
        if self._held is not None:
            with self._lock:
                if self._held is not None:
                    self._held.append(frame)
                    return
        self._write(frame)

    def release_logs(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
        for frame in held:
            self._write(frame)

    def close(self) -> None:
        self.release_logs()

    def _write(self, *frames: bytes) -> None:
        guard = self.guard_signal
        if guard is not None:
            signal.pthread_sigmask(signal.SIG_BLOCK, (guard,))
        try:
            with self._lock:  # a frame and its attachment go out together
                for frame in frames:
                    view = memoryview(frame)
                    while view:
                        written = os.write(self._fd, view)
                        view = view[written:]
        except OSError:
            os._exit(3)  # the server end is gone: nothing left to report to
        finally:
            if guard is not None:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, (guard,))
