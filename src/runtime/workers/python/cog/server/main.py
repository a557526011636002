"""Command line of the Python worker (kiln_worker.py delegates here)."""

import argparse
import json
import os
import sys
import threading
from typing import List, Optional

from .channel import Channel
from .errors import LoadError, describe_exception
from .logs import LogStream
from .worker import load_targets, loaded_message, main_target


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kiln_worker.py", description="kiln's worker for Cog-style predictors")
    parser.add_argument("--predictor", default=None, help="file.py:Name from cog.yaml `predict` (absent: train-only)")
    parser.add_argument("--root", default=os.getcwd(), help="project directory (the image's /src)")
    parser.add_argument("--train", default=None, help="file.py:name from cog.yaml `train`")
    parser.add_argument("--schema-only", action="store_true", help="print the `loaded` message and exit")
    return parser.parse_args(argv)


def _prepare(root: str) -> str:
    root = os.path.abspath(root)
    if root not in sys.path:
        sys.path.insert(1, root)  # after kiln's own directory, so `cog` stays ours
    os.chdir(root)
    return root


def schema_only(args: argparse.Namespace) -> int:
    root = _prepare(args.root)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # user prints at import time must not corrupt the JSON on stdout
    try:
        message = loaded_message(load_targets(root, args.predictor, args.train))
    except LoadError as err:
        sys.stderr.write(f"{err}\n")
        return 1
    except Exception as err:  # noqa: BLE001
        sys.stderr.write(f"{describe_exception(err, root)}\n")
        return 1
    finally:
        sys.stdout = real_stdout
    real_stdout.write(json.dumps(message) + "\n")
    real_stdout.flush()
    return 0


def serve(args: argparse.Namespace, fd_in: int = 3, fd_out: int = 4) -> int:
    try:
        os.fstat(fd_in)
        os.fstat(fd_out)
    except OSError:
        sys.stderr.write("kiln_worker.py must be started by the kiln server with fds 3 and 4 open "
                         "(use --schema-only to print the schema)\n")
        return 2
    channel = Channel(fd_out)
    sys.stdout = LogStream(channel, "stdout", 1)
    sys.stderr = LogStream(channel, "stderr", 2)
    root = _prepare(args.root)
    from .async_mode import AsyncWorker
    from .sync_mode import SyncWorker

    try:
        targets = load_targets(root, args.predictor, args.train)
    except BaseException as err:  # noqa: BLE001 - any load failure is reported as setup_failed
        error = str(err) if isinstance(err, LoadError) else describe_exception(err, root)
        sys.stdout.flush()
        sys.stderr.flush()
        channel.release_logs()
        channel.send({"type": "setup_failed", "error": error})
        worker = SyncWorker(root, channel, {})
        worker.setup_error = error
        worker.serve(fd_in)
        channel.close()
        _exit_soon()
        return 0
    channel.send(loaded_message(targets))
    channel.release_logs()
    worker_class = AsyncWorker if main_target(targets).is_async else SyncWorker
    worker_class(root, channel, targets).serve(fd_in)
    sys.stdout.flush()
    sys.stderr.flush()
    channel.close()
    _exit_soon()
    return 0


def _exit_soon(grace: float = 5.0) -> None:
    """Threads the predictor started without daemon=True would keep the process alive after shutdown."""
    timer = threading.Timer(grace, os._exit, (0,))
    timer.daemon = True
    timer.start()


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return schema_only(args) if args.schema_only else serve(args)
