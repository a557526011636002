"""sys.stdout / sys.stderr replacements that turn user prints into `log` messages of the right prediction."""

import io
import threading
from typing import Dict, Optional, Tuple

from ..scope import current_prediction_id
from .channel import Channel


class LogStream(io.TextIOBase):
    """Buffers text per prediction and sends whole lines; flush() sends partial lines (progress bars)."""

    def __init__(self, channel: Channel, source: str, fd: int) -> None:
        super().__init__()
        self._channel = channel
        self._source = source
        self._fd = fd
        self._lock = threading.Lock()
        self._buffers: Dict[Optional[str], str] = {}
        self.buffer = _BinaryAdapter(self)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def errors(self) -> str:  # type: ignore[override]
        return "replace"

    @property
    def name(self) -> str:
        return f"<{self._source}>"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        # subprocesses given sys.stdout write to the raw fd, which the server also attributes
        return self._fd

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        key = current_prediction_id()
        with self._lock:
            pending = self._buffers.get(key, "") + text
            cut = pending.rfind("\n") + 1
            if cut:
                ready, pending = pending[:cut], pending[cut:]
            else:
                ready = ""
            if pending:
                self._buffers[key] = pending
            else:
                self._buffers.pop(key, None)
        if ready:
            self._channel.send_log(key, self._source, ready)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            items: Tuple[Tuple[Optional[str], str], ...] = tuple(self._buffers.items())
            self._buffers.clear()
        for key, text in items:
            self._channel.send_log(key, self._source, text)

    def flush_prediction(self, prediction_id: Optional[str]) -> None:
        with self._lock:
            text = self._buffers.pop(prediction_id, "")
        if text:
            self._channel.send_log(prediction_id, self._source, text)


class _BinaryAdapter:
    """sys.stdout.buffer for code that writes bytes."""

    def __init__(self, stream: LogStream) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        self._stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()
