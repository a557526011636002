"""Async predictors: one asyncio loop in the main thread, one task per prediction (concurrency > 1 allowed).

Cancellation cancels the prediction's task: user code sees asyncio.CancelledError at its current await.
"""

import asyncio
import inspect
import sys
from typing import Any, Dict, Optional, Set

from ..exceptions import CancelationException
from ..scope import enter_scope, exit_scope
from .codec import DecodedInput, decode_inputs
from .codec import check_output
from .outcome import STREAMED, Outcome, is_lazy_sequence, send_chunk, send_outcome, should_stream
from .worker import WorkerBase

_DIRECT = ("predict", "cancel", "healthcheck")


# Python 3.12+ can run a task's first step at once (an eager task), so a prediction starts in the
# reader's callback and one that never waits is done before the loop's next turn, while
# asyncio.current_task() (asyncio.timeout, aiohttp, anyio need it) is its task from the first line.
# Before 3.12 the task starts on the loop's next turn.
_EAGER = sys.version_info >= (3, 12)


def _start(coro: Any) -> "Optional[asyncio.Task[Any]]":
    """The prediction's task, or None when it finished in its first (eager) step."""
    loop = asyncio.get_running_loop()
    if not _EAGER:
        return loop.create_task(coro)
    task = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg]
    return None if task.done() else task


class AsyncWorker(WorkerBase):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tasks: Dict[str, "asyncio.Task[None]"] = {}
        self.canceled: Set[str] = set()
        self.started: Set[str] = set()
        self.background: Set["asyncio.Future[Any]"] = set()
        self._flush_soon = False

    def finish(self, prediction_id: str, outcome: Outcome) -> None:
        # While other predictions are in flight (those a batch of frames started finish in the same
        # turn), this end waits for them, at most until the loop's next pass: one write for them all.
        self.flush_logs(prediction_id)
        others = len(self.tasks) - (prediction_id in self.tasks)
        if send_outcome(self.channel, prediction_id, outcome, wait=others > 0) and not self._flush_soon:
            self._flush_soon = True
            asyncio.get_running_loop().call_soon(self._flush_ends)

    def _flush_ends(self) -> None:
        self._flush_soon = False
        self.channel.flush_ends()

    def serve(self, fd_in: int) -> None:
        asyncio.run(self._serve(fd_in))

    async def _serve(self, fd_in: int) -> None:
        loop = asyncio.get_running_loop()
        inbox: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        # While this loop waits on an empty inbox, predict/cancel/healthcheck are handled right in the
        # reader's callback (they never wait): one pass of the event loop less per message. Anything
        # queued (setup, shutdown, or whatever arrives while setup runs) keeps the order for all behind it.
        direct = False

        def deliver(message: Dict[str, Any]) -> None:
            nonlocal direct
            if direct and message.get("type") in _DIRECT:
                self._dispatch(message)
                return
            direct = False
            inbox.put_nowait(message)

        self.start_loop_reader(loop, fd_in, deliver)
        while True:
            if inbox.empty():
                direct = True
            message = await inbox.get()
            direct = False
            kind = message.get("type")
            if kind == "setup":
                await self._setup(message.get("weights"))
            elif kind in _DIRECT:
                self._dispatch(message)
            elif kind == "shutdown":
                if self.tasks:
                    await asyncio.gather(*self.tasks.values(), return_exceptions=True)
                return
            elif kind == "_eof":
                for task in self.tasks.values():
                    task.cancel()
                return

    def _dispatch(self, message: Dict[str, Any]) -> None:
        """A message that starts work or cancels it: never waits."""
        kind = message.get("type")
        if kind == "predict":
            task = _start(self._predict(message))
            if task is not None:
                self.tasks[str(message.get("id"))] = task
        elif kind == "cancel":
            self._cancel(str(message.get("id")))
        else:
            self._keep(asyncio.ensure_future(self._healthcheck(message.get("seq"))))

    def _keep(self, future: "asyncio.Future[Any]") -> None:
        self.background.add(future)
        future.add_done_callback(self.background.discard)

    def _cancel(self, prediction_id: str) -> None:
        task = self.tasks.get(prediction_id)
        if task is None or prediction_id in self.canceled:
            return
        self.canceled.add(prediction_id)
        # A task canceled before its first step never runs its body (no `canceled` message would be
        # sent); a task that has not started yet sees self.canceled when it does.
        if prediction_id in self.started:
            task.cancel()

    async def _setup(self, weights: Optional[str]) -> None:
        if not self.begin_setup(async_mode=True):
            return
        try:
            for call in self.setup_calls(weights):
                result = call()
                if inspect.isawaitable(result):
                    await result
        except BaseException as err:  # noqa: BLE001 - every failure of user setup is reported
            self.setup_failed(err)
            return
        self.setup_done()

    async def _predict(self, message: Dict[str, Any]) -> None:
        prediction_id = str(message.get("id"))
        self.started.add(prediction_id)
        try:
            if prediction_id in self.canceled:
                self.finish(prediction_id, Outcome("canceled"))
                return
            refusal = self.not_runnable(message)
            if refusal:
                self.finish(prediction_id, Outcome("failed", error=refusal))
                return
            target = self.targets[message.get("kind", "predict")]
            scope = self.scope_for(message)
            token = enter_scope(scope)  # this task runs in its own copy of the context
            decoded: Optional[DecodedInput] = None
            try:
                assert target.signature is not None
                decoded = decode_inputs(target.signature.params, message.get("input") or {},
                                        target.signature.extra_inputs)
                outcome = Outcome("done", await self._run(prediction_id, target, decoded))
            except (asyncio.CancelledError, CancelationException):
                outcome = Outcome("canceled")
            except BaseException as err:  # noqa: BLE001 - SystemExit must not stop the loop
                outcome = self.failure(target, err)
            if decoded is not None:
                decoded.close()
            if prediction_id in self.canceled and outcome.kind == "done":
                outcome = Outcome("canceled")
            self.finish(prediction_id, outcome)
            exit_scope(scope, token)
        finally:
            self.tasks.pop(prediction_id, None)
            self.canceled.discard(prediction_id)
            self.started.discard(prediction_id)

    async def _run(self, prediction_id: str, target: Any, decoded: DecodedInput) -> Any:
        info = target.signature.output
        result = target.fn(**decoded.kwargs)
        if inspect.isawaitable(result):
            result = await result
        if inspect.isasyncgen(result) or (info.iterator and hasattr(result, "__aiter__")):
            async for chunk in result:
                send_chunk(self.channel, prediction_id, chunk, info)
            return STREAMED
        if should_stream(info, result):
            for chunk in result:
                send_chunk(self.channel, prediction_id, chunk, info)
            return STREAMED
        if info.kind == "list" and is_lazy_sequence(result):
            return check_output(info, list(result))
        return check_output(info, result)

    async def _healthcheck(self, seq: Any) -> None:
        call = self.begin_healthcheck(seq)
        if call is None:
            return
        try:
            if inspect.iscoroutinefunction(call):
                result = await call()
            else:
                result = await asyncio.get_running_loop().run_in_executor(None, call)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as err:  # noqa: BLE001
            self.healthcheck_result(seq, err=err)
            return
        self.healthcheck_result(seq, result)
