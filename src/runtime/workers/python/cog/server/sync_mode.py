"""Sync predictors run in the main thread, one at a time; the reader thread handles cancel and healthcheck.

Cancellation sends SIGUSR1 to the main thread; its handler raises CancelationException in user code. The
handler runs at the next bytecode boundary and interrupts blocking calls that return EINTR (time.sleep,
lock waits, socket and pipe reads), but not a long computation inside a C extension.
"""

import inspect
import signal
import threading
from typing import Any, Dict, Optional, Set

try:  # the C function: signal.getsignal's wrapper tries (and fails) to make an enum of a handler
    from _signal import getsignal
except ImportError:  # pragma: no cover
    from signal import getsignal

try:  # the C queue itself: the `queue` module around it (with heapq) is not needed here
    from _queue import SimpleQueue
except ImportError:  # pragma: no cover - Pythons without the accelerator
    from queue import SimpleQueue

from ..exceptions import CancelationException
from ..scope import enter_scope, exit_scope
from .codec import DecodedInput, decode_inputs
from .loader import Target
from .codec import check_output
from .outcome import STREAMED, Outcome, is_lazy_sequence, send_chunk, should_stream
from .worker import WorkerBase, run_coroutine_blocking


class SyncWorker(WorkerBase):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.inbox: "SimpleQueue[Dict[str, Any]]" = SimpleQueue()
        self.main_ident = threading.get_ident()
        self.current_id: Optional[str] = None
        self.in_user_code = False
        self.cancel_target: Optional[str] = None
        self.cancel_requested: Set[str] = set()
        self.cancel_lock = threading.Lock()

    def serve(self, fd_in: int) -> None:
        signal.signal(signal.SIGUSR1, self._on_cancel_signal)
        self.channel.guard_signal = signal.SIGUSR1
        self.start_reader(fd_in, self._deliver)
        while True:
            message = self.inbox.get()
            kind = message.get("type")
            if kind == "setup":
                self._setup(message.get("weights"))
            elif kind == "predict":
                self._predict(message)
            elif kind in ("shutdown", "_eof"):
                return

    def _deliver(self, message: Dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "cancel":
            self._cancel(str(message.get("id")))
        elif kind == "healthcheck":
            threading.Thread(target=self._healthcheck, args=(message.get("seq"),), daemon=True).start()
        else:
            self.inbox.put(message)

    # ---- cancellation ----
    def _cancel(self, prediction_id: str) -> None:
        with self.cancel_lock:
            if prediction_id in self.cancel_requested:
                return
            self.cancel_requested.add(prediction_id)
            if prediction_id != self.current_id:
                return  # still queued: skipped when its turn comes
            self.cancel_target = prediction_id
        signal.pthread_kill(self.main_ident, signal.SIGUSR1)

    def _on_cancel_signal(self, _signum: int, _frame: Any) -> None:
        if self.in_user_code and self.cancel_target is not None and self.cancel_target == self.current_id:
            self.cancel_target = None  # raised once per cancel request
            raise CancelationException()

    def _check_canceled(self, prediction_id: str) -> None:
        if prediction_id in self.cancel_requested:
            self.cancel_target = None
            raise CancelationException()

    # ---- setup and predictions ----
    def _setup(self, weights: Optional[str]) -> None:
        if not self.begin_setup(async_mode=False):
            return
        try:
            for call in self.setup_calls(weights):
                result = call()
                if inspect.isawaitable(result):
                    run_coroutine_blocking(result)
        except BaseException as err:  # noqa: BLE001 - every failure of user setup is reported
            self.setup_failed(err)
            return
        self.setup_done()

    def _predict(self, message: Dict[str, Any]) -> None:
        prediction_id = str(message.get("id"))
        refusal = self.not_runnable(message)
        if refusal:
            self.finish(prediction_id, Outcome("failed", error=refusal))
            return
        target = self.targets[message.get("kind", "predict")]
        if getsignal(signal.SIGUSR1) != self._on_cancel_signal:
            # user code replaced our handler (e.g. during setup): cancellation needs it back
            signal.signal(signal.SIGUSR1, self._on_cancel_signal)
        scope = self.scope_for(message)
        token = enter_scope(scope)
        with self.cancel_lock:
            self.current_id = prediction_id
        decoded: Optional[DecodedInput] = None
        try:
            try:
                self.in_user_code = True
                self._check_canceled(prediction_id)
                assert target.signature is not None
                decoded = decode_inputs(target.signature.params, message.get("input") or {},
                                        target.signature.extra_inputs)
                value = self._run(prediction_id, target, decoded)
                self._check_canceled(prediction_id)
                outcome = Outcome("done", value)
            except CancelationException:
                outcome = Outcome("canceled")
            except BaseException as err:  # noqa: BLE001 - SystemExit included: it fails this prediction only
                outcome = self.failure(target, err)
            finally:
                self.in_user_code = False
        except CancelationException:  # the one signal landed while handling the outcome
            self.in_user_code = False
            outcome = Outcome("canceled")
        with self.cancel_lock:
            self.current_id = None
            self.cancel_target = None
            self.cancel_requested.discard(prediction_id)
        if decoded is not None:
            decoded.close()
        self.finish(prediction_id, outcome)
        exit_scope(scope, token)

    def _run(self, prediction_id: str, target: Target, decoded: DecodedInput) -> Any:
        assert target.fn is not None and target.signature is not None
        result = target.fn(**decoded.kwargs)
        info = target.signature.output
        if inspect.isawaitable(result) or inspect.isasyncgen(result):
            return run_coroutine_blocking(self._consume_async(prediction_id, info, result))
        if should_stream(info, result):
            for chunk in result:
                send_chunk(self.channel, prediction_id, chunk, info)
                self._check_canceled(prediction_id)
            return STREAMED
        if info.kind == "list" and is_lazy_sequence(result):
            return check_output(info, list(result))
        return check_output(info, result)

    async def _consume_async(self, prediction_id: str, info: Any, result: Any) -> Any:
        """An async trainer next to a sync predictor: run on a short-lived event loop."""
        if inspect.isawaitable(result):
            result = await result
        if inspect.isasyncgen(result) or hasattr(result, "__aiter__"):
            async for chunk in result:
                send_chunk(self.channel, prediction_id, chunk, info)
                self._check_canceled(prediction_id)
            return STREAMED
        if should_stream(info, result):
            for chunk in result:
                send_chunk(self.channel, prediction_id, chunk, info)
            return STREAMED
        return check_output(info, result)

    def _healthcheck(self, seq: Any) -> None:
        call = self.begin_healthcheck(seq)
        if call is None:
            return
        try:
            result = call()
            if inspect.isawaitable(result):
                result = run_coroutine_blocking(result)
        except BaseException as err:  # noqa: BLE001
            self.healthcheck_result(seq, err=err)
            return
        self.healthcheck_result(seq, result)

