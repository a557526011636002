"""The Python worker: loads the predictor, sends `loaded`, runs setup, then serves protocol messages."""

import inspect
import os
import sys
import threading
from typing import Any, Callable, Dict, Optional

from ..scope import Scope
from ..types import Path
from .channel import Channel
from .codec import InputError, OutputError
from .errors import LoadError, describe_exception, traceback_text
from .frames import FrameReader
from .loader import Target, load_target
from .logs import LogStream
from .outcome import Outcome, check_metric_value, send_outcome

PROTOCOL_VERSION = 1


def load_targets(root: str, predictor_ref: Optional[str], train_ref: Optional[str]) -> Dict[str, Target]:
    """The entry points by kind; a train-only model (cog.yaml `train:` without `predict:`) has "train" alone."""
    if not predictor_ref and not train_ref:
        raise LoadError("neither --predictor nor --train was given: there is nothing to load")
    targets: Dict[str, Target] = {}
    if predictor_ref:
        targets["predict"] = load_target(root, predictor_ref, "predict")
        targets["predict"].build_schema("Input", "Output")
    if train_ref:
        trainer = load_target(root, train_ref, "train")
        trainer.build_schema("TrainingInput", "TrainingOutput")
        if "predict" in targets and trainer.obj is targets["predict"].obj:
            trainer.shares = targets["predict"]  # one class with predict() and train(): one instance, one setup()
        targets["train"] = trainer
    return targets


def main_target(targets: Dict[str, Target]) -> Target:
    """The predictor, or the trainer of a train-only model: its mode (sync/async) and healthcheck count."""
    return targets["predict"] if "predict" in targets else targets["train"]


def loaded_message(targets: Dict[str, Target]) -> Dict[str, Any]:
    predictor = main_target(targets)
    assert predictor.signature is not None
    if "predict" in targets:
        schema: Dict[str, Any] = {"input": predictor.signature.input_schema,
                                  "output": predictor.signature.output_schema,
                                  "components": predictor.signature.components}
    else:  # no prediction to describe: empty Input/Output, and trainOnly says so
        schema = {"input": {"title": "Input", "type": "object", "properties": {}}, "output": {"title": "Output"},
                  "components": {}, "trainOnly": True}
    trainer = targets.get("train")
    if trainer is not None and trainer.signature is not None:
        schema["train"] = {"input": trainer.signature.input_schema, "output": trainer.signature.output_schema,
                           "components": trainer.signature.components}
    message = {"type": "loaded", "protocol": PROTOCOL_VERSION, "schema": schema, "async": predictor.is_async,
               "hasHealthcheck": predictor.has_healthcheck, "streaming": predictor.streaming}
    if predictor.concurrency is not None:
        message["concurrency"] = predictor.concurrency
    return message


def weights_argument(weights: Optional[str]) -> Any:
    if weights is None or weights == "":
        return None
    if "://" in weights or weights.startswith("data:"):
        return weights
    return Path(weights)


def _exit_soon() -> None:
    """The server is gone (fd 3 closed): do not outlive it, even if user code never returns."""
    timer = threading.Timer(3.0, lambda: os._exit(0))
    timer.daemon = True
    timer.start()

class WorkerBase:
    """State and steps shared by the sync and async modes."""

    def __init__(self, root: str, channel: Channel, targets: Dict[str, Target]) -> None:
        self.root = root
        self.channel = channel
        self.targets = targets
        self.ready = False
        self.setup_error: Optional[str] = None
        self.stdout: LogStream = sys.stdout  # type: ignore[assignment]
        self.stderr: LogStream = sys.stderr  # type: ignore[assignment]

    # ---- reading fd 3 ----
    def start_reader(self, fd: int, deliver: Callable[[Dict[str, Any]], None]) -> None:
        def read() -> None:
            feed = FrameReader(deliver)
            with open(fd, "rb", buffering=1 << 16, closefd=False) as stream:
                for raw in stream:
                    feed(raw)
            deliver({"type": "_eof"})
            _exit_soon()

        threading.Thread(target=read, name="kiln-protocol-reader", daemon=True).start()

    def start_loop_reader(self, loop: Any, fd: int, deliver: Callable[[Dict[str, Any]], None]) -> None:
        """Reads fd 3 in the event loop itself (async mode): no reader thread, no cross-thread wake-up
        per message. Non-blocking reads; each byte is searched for a newline once."""
        os.set_blocking(fd, False)
        pending: "list[bytes]" = []
        feed = FrameReader(deliver)

        def on_readable() -> None:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                loop.remove_reader(fd)
                deliver({"type": "_eof"})
                _exit_soon()
                return
            start = 0
            while True:
                nl = data.find(b"\n", start)
                if nl < 0:
                    if start < len(data):
                        pending.append(data[start:])
                    return
                line = data[start:nl]
                if pending:
                    pending.append(line)
                    line = b"".join(pending)
                    pending.clear()
                start = nl + 1
                feed(line)

        loop.add_reader(fd, on_readable)

    # ---- setup ----
    def setup_problem(self, async_mode: bool) -> Optional[str]:
        predictor = main_target(self.targets)
        raw = os.environ.get("COG_MAX_CONCURRENCY", "").strip()
        try:
            concurrency = int(raw) if raw else (predictor.concurrency or 1)
        except ValueError:
            return f"COG_MAX_CONCURRENCY must be an integer, got {raw!r}"
        if predictor.concurrency is not None and predictor.concurrency > 1 and not async_mode:
            return (f"{predictor.path}: {predictor.label()} has @concurrent(max={predictor.concurrency}) but is not "
                    "async; make it `async def` (concurrent predictions share one event loop), or remove the decorator")
        if concurrency > 1 and not async_mode:
            return (f"{predictor.path}: {predictor.label()} is not async, so it cannot run {concurrency} predictions "
                    "at once (concurrency.max in cog.yaml). Make it `async def`, or set concurrency.max to 1")
        trainer = self.targets.get("train")
        if trainer is not None and trainer is not predictor and trainer.is_async != async_mode and async_mode:
            return (f"{trainer.path}: {trainer.label()} is sync while {predictor.label()} is async; "
                    "make both async or both sync")
        return None

    def begin_setup(self, async_mode: bool) -> bool:
        """True when setup should run now; False when it already ran or is refused (refusal reported)."""
        if self.ready or self.setup_error is not None:
            return False  # setup runs once; a load failure was already reported
        problem = self.setup_problem(async_mode=async_mode)
        if problem:
            self.refuse_setup(problem)
            return False
        return True

    def setup_calls(self, weights: Optional[str]) -> "list[Callable[[], Any]]":
        """Instantiates the classes and returns their setup() calls (weights passed when accepted)."""
        calls = []
        for target in self.targets.values():
            target.instantiate()
            if target.shares is not None:
                continue  # its setup() is the predictor's
            setup = target.bound("setup")
            if setup is None:
                continue
            takes_weights = len(inspect.signature(setup).parameters) >= 1
            argument = weights_argument(weights)
            calls.append((lambda s=setup, a=argument: s(a)) if takes_weights else setup)
        return calls

    def setup_failed(self, err: BaseException) -> None:
        self.stderr.write(traceback_text(err))
        self.flush_logs(None)
        self.setup_error = describe_exception(err, self.root)
        self.channel.send({"type": "setup_failed", "error": self.setup_error})

    def refuse_setup(self, error: str) -> None:
        self.setup_error = error
        self.flush_logs(None)
        self.channel.send({"type": "setup_failed", "error": error})

    def setup_done(self) -> None:
        self.flush_logs(None)
        self.ready = True
        self.channel.send({"type": "ready"})

    # ---- predictions ----
    def not_runnable(self, message: Dict[str, Any]) -> Optional[str]:
        if self.setup_error is not None:
            return f"setup failed: {self.setup_error}"
        if not self.ready:
            return "the predictor is not ready (setup has not completed)"
        kind = message.get("kind", "predict")
        if kind not in self.targets:
            if kind == "predict":
                return "this model has no predict: entry in cog.yaml (it only trains)"
            return "this model has no trainer (no train: entry in cog.yaml)"
        return None

    def scope_for(self, message: Dict[str, Any]) -> Scope:
        context = message.get("context")
        return Scope(str(message["id"]), context if isinstance(context, dict) else {}, self.record_metric)

    def record_metric(self, prediction_id: str, name: str, value: Any, mode: str) -> None:
        check_metric_value(name, value)
        self.channel.send({"type": "metric", "id": prediction_id, "name": name, "value": value, "mode": mode})

    def failure(self, target: Target, err: BaseException) -> Outcome:
        if isinstance(err, SystemExit):
            return Outcome("failed", error=f"{target.label()} called sys.exit({err.code!r})")
        if not isinstance(err, (InputError, OutputError)):
            self.stderr.write(traceback_text(err))
        return Outcome("failed", error=str(err) or type(err).__name__)

    def finish(self, prediction_id: str, outcome: Outcome) -> None:
        self.flush_logs(prediction_id)
        send_outcome(self.channel, prediction_id, outcome)

    def flush_logs(self, prediction_id: Optional[str]) -> None:
        for stream in (self.stdout, self.stderr):
            if isinstance(stream, LogStream):
                stream.flush_prediction(prediction_id)

    # ---- healthcheck ----
    def begin_healthcheck(self, seq: Any) -> Optional[Callable[[], Any]]:
        """The user's healthcheck to run, or None when the answer was already sent (not ready, or none defined)."""
        if self.healthcheck_not_ready(seq):
            return None
        call = main_target(self.targets).bound("healthcheck")
        if call is None:
            self.healthcheck_result(seq, True)
        return call

    def healthcheck_result(self, seq: Any, result: Any = None, err: Optional[BaseException] = None) -> None:
        if err is not None:
            message: Dict[str, Any] = {"type": "healthcheck_result", "seq": seq, "ok": False,
                                       "error": f"user-defined healthcheck failed: {type(err).__name__}: {err}"}
        elif result is None or bool(result):
            message = {"type": "healthcheck_result", "seq": seq, "ok": True}
        else:
            message = {"type": "healthcheck_result", "seq": seq, "ok": False, "error": "user-defined healthcheck returned False"}
        self.channel.send(message)

    def healthcheck_not_ready(self, seq: Any) -> bool:
        if self.ready:
            return False
        error = f"setup failed: {self.setup_error}" if self.setup_error else "setup has not completed"
        self.channel.send({"type": "healthcheck_result", "seq": seq, "ok": False, "error": error})
        return True


def run_coroutine_blocking(awaitable: Any) -> Any:
    import asyncio  # only sync workers with an async setup/trainer/healthcheck pay for asyncio

    async def wrapper() -> Any:
        return await awaitable

    return asyncio.run(wrapper())


__all__ = ["LoadError", "WorkerBase", "load_targets", "loaded_message", "run_coroutine_blocking"]
