"""Async predictors: one asyncio loop in the main thread, one task per prediction (concurrency > 1 allowed).

Cancellation cancels the prediction's task: user code sees asyncio.CancelledError at its current await.
"""

import asyncio
import collections.abc
import contextvars
import inspect
import sys
from typing import Any, Dict, Optional, Set

from ..exceptions import CancelationException
from ..scope import enter_scope, exit_scope
from .codec import DecodedInput, decode_inputs
from .codec import check_output
from .outcome import STREAMED, Outcome, is_lazy_sequence, send_chunk, should_stream
from .worker import WorkerBase

_DIRECT = ("predict", "cancel", "healthcheck")


def _start_eagerly(coro: Any) -> "Optional[asyncio.Task[Any]]":
    """Runs the coroutine's first step now, in a context of its own as a task would; None when that step
    finished it (a predictor that never really waits), else the task that runs the rest. What Python
    3.12's eager tasks do, for 3.10 and 3.11 too: one pass of the event loop less per prediction."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    try:
        waiting_on = context.run(coro.send, None)
    except StopIteration:
        return None
    except Exception as err:  # noqa: BLE001 - reported as a failing task's would be; the reader goes on
        loop.call_exception_handler({"message": "a prediction task failed", "exception": err})
        return None
    rest = _Rest(coro, waiting_on)
    if sys.version_info >= (3, 11):
        return loop.create_task(rest, context=context)  # the rest of its steps in that same context
    return context.run(loop.create_task, rest)  # 3.10: the task runs in a copy of it


class _Rest(collections.abc.Coroutine):
    """`coro` from its second step on, for a Task: the Task's first step gets the future `coro` waits on
    (from the step run eagerly), and every later send or throw goes to `coro`. A throw before that first
    step (a cancel right behind the predict) reaches `coro` too, at the await it is suspended in: a
    coroutine object of our own would never start, and `coro` would never hear of it."""

    def __init__(self, coro: Any, waiting_on: Any) -> None:
        self._coro = coro
        self._first: Any = waiting_on
        self._stepped = False
        # What asyncio shows for a task (its repr, warnings about a pending task): the coroutine's own.
        self.__name__ = getattr(coro, "__name__", "prediction")
        self.__qualname__ = getattr(coro, "__qualname__", self.__name__)

    @property
    def cr_frame(self) -> Any:
        return getattr(self._coro, "cr_frame", None)

    def send(self, value: Any) -> Any:
        if not self._stepped:
            self._stepped = True
            return self._first
        return self._coro.send(value)

    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> Any:
        self._stepped = True
        if val is None and tb is None:
            return self._coro.throw(typ)
        return self._coro.throw(typ, val, tb)  # pragma: no cover - asyncio throws one exception object

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Any:  # pragma: no cover - only ever run by a Task
        return self


class AsyncWorker(WorkerBase):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.tasks: Dict[str, "asyncio.Task[None]"] = {}
        self.canceled: Set[str] = set()
        self.started: Set[str] = set()
        self.background: Set["asyncio.Future[Any]"] = set()

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
            task = _start_eagerly(self._predict(message))
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
