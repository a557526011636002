"""Worker -> server messages: NDJSON frames on fd 4, written by one thread so frames never interleave."""

import json
import os
import queue
import threading
from typing import Any, Dict, List, Optional

_STOP = object()


def encode(message: Dict[str, Any]) -> bytes:
    # ensure_ascii keeps frames valid even when user text holds lone surrogates
    return (json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


class Channel:
    """send() only enqueues (a C-level SimpleQueue.put), so a CancelationException raised by the cancel
    signal in the main thread can never leave half a frame on the pipe."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._queue: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
        self._held: Optional[List[bytes]] = []  # logs written before `loaded` wait for it
        self._held_lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="kiln-channel-writer", daemon=True)
        self._thread.start()

    def send(self, message: Dict[str, Any]) -> None:
        self._queue.put(encode(message))

    def send_log(self, prediction_id: Optional[str], source: str, data: str) -> None:
        frame = encode({"type": "log", "id": prediction_id, "source": source, "data": data})
        if self._held is not None:
            with self._held_lock:
                if self._held is not None:
                    self._held.append(frame)
                    return
        self._queue.put(frame)

    def release_logs(self) -> None:
        with self._held_lock:
            held, self._held = self._held or [], None
        for frame in held:
            self._queue.put(frame)

    def close(self, timeout: float = 5.0) -> None:
        """Flushes every queued frame, then stops the writer."""
        self.release_logs()
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _drain(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is _STOP:
                return
            view = memoryview(frame)
            try:
                while view:
                    written = os.write(self._fd, view)
                    view = view[written:]
            except OSError:
                os._exit(3)  # the server end is gone: nothing left to report to
