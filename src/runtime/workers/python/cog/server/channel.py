"""Worker -> server messages: NDJSON frames on fd 4 (big outputs as attachments), written whole under a lock so
frames never interleave."""

import json
import os
import threading
from typing import Any, Dict, List, Optional

try:  # the C functions themselves: signal's wrappers turn every mask into a set of enums (per frame)
    from _signal import pthread_sigmask
except ImportError:  # pragma: no cover
    from signal import pthread_sigmask
from signal import SIG_BLOCK, SIG_UNBLOCK

# One encoder for every frame (json.dumps with options builds a new one per call); ensure_ascii keeps
# frames valid even when user text holds lone surrogates.
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def encode(message: Dict[str, Any]) -> bytes:
    return (_dumps(message) + "\n").encode("ascii")


# Outputs (and chunks) this large follow their frame as an attachment (src/runtime/protocol.ts): the
# server keeps those bytes as they are instead of parsing one huge line.
RAW_ATTACHMENT_MIN_BYTES = 256 * 1024
_ATTACHABLE = {"done": "output", "output": "chunk"}


# A string this short serializes to less than RAW_ATTACHMENT_MIN_BYTES even if every character is escaped
# (at most 12 bytes: a surrogate pair): such a value needs no attachment; the frame is serialized in one call.
_SURELY_INLINE_CHARS = RAW_ATTACHMENT_MIN_BYTES // 12


def _surely_inline(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float)) or (
        isinstance(value, str) and len(value) < _SURELY_INLINE_CHARS)


# Bytes that JSON writes escaped: control characters, the quote and the backslash.
_ESCAPED_ASCII = bytes(range(0x20)) + b'"\\'


def _plain_ascii(value: Any) -> Optional[bytes]:
    """A big string's bytes when it is ASCII that JSON writes as it stands (no byte to escape), else None."""
    if not isinstance(value, str) or len(value) < RAW_ATTACHMENT_MIN_BYTES or not value.isascii():
        return None  # isascii() is O(1) for CPython's compact strings
    if '"' in value or "\\" in value:
        return None
    data = value.encode("ascii")
    return data if len(data.translate(None, _ESCAPED_ASCII)) == len(data) else None


def encode_parts(message: Dict[str, Any]) -> List[bytes]:
    """The bytes for one message: a frame, or a frame and its attachment. The value is serialized once."""
    field = _ATTACHABLE.get(message.get("type", ""))
    if field is None or field not in message or _surely_inline(message[field]):
        return [encode(message)]
    plain = _plain_ascii(message[field])
    head = {k: v for k, v in message.items() if k != field}
    if plain is not None:
        # Its own JSON text between quotes: no encoder pass over 100 MB, one copy (the encode).
        head["rawField"] = field
        head["rawBytes"] = len(plain) + 2
        return [encode(head), b'"', plain, b'"']
    value = _dumps(message[field])
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
        self._ends: List[bytes] = []  # last frames of predictions, waiting to go out together
        self.guard_signal: Optional[int] = None

    def send(self, message: Dict[str, Any]) -> None:
        self._write(*encode_parts(message))

    def send_end(self, message: Dict[str, Any], wait: bool) -> bool:
        """A prediction's last frame (done, failed, canceled). With `wait` a small one waits for
        flush_ends() (or the next frame written), so the ends of predictions that finish in the same turn
        leave in one write: one syscall, one wake-up of the server. True when it waits."""
        parts = encode_parts(message)
        if wait and len(parts) == 1:
            with self._lock:
                self._ends.append(parts[0])
            return True
        self._write(*parts)
        return False

    def flush_ends(self) -> None:
        if self._ends:
            self._write()

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
            pthread_sigmask(SIG_BLOCK, (guard,))
        try:
            with self._lock:  # a frame and its attachment go out together
                if self._ends:  # the ends that wait go first (frames keep their order), in the same write
                    ends, self._ends = self._ends, []
                    if len(frames) == 1 and len(frames[0]) < RAW_ATTACHMENT_MIN_BYTES:
                        frames = (b"".join((*ends, frames[0])),)
                    else:
                        frames = (b"".join(ends), *frames)
                for frame in frames:
                    view = memoryview(frame)
                    while view:
                        written = os.write(self._fd, view)
                        view = view[written:]
        except OSError:
            os._exit(3)  # the server end is gone: nothing left to report to
        finally:
            if guard is not None:
                pthread_sigmask(SIG_UNBLOCK, (guard,))
