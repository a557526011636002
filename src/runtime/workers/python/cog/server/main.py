"""Command line of the Python worker (kiln_worker.py delegates here)."""

import json
import os
import sys
import threading
from types import SimpleNamespace
from typing import List, Optional

from . import lazy_ssl
from .channel import Channel
from .errors import LoadError, describe_exception
from .logs import LogStream
from .worker import load_targets, loaded_message, main_target


USAGE = """usage: kiln_worker.py [--predictor FILE.py:NAME] [--root DIR] [--train FILE.py:NAME] [--schema-only]

kiln's worker for Cog-style predictors

  --predictor FILE.py:NAME  the predict: entry of cog.yaml (absent: a train-only model)
  --root DIR                the project directory (the image's /src; default: the current directory)
  --train FILE.py:NAME      the train: entry of cog.yaml
  --schema-only             print the `loaded` message and exit
"""

# The server is this command line's only caller: a few flags parsed by hand instead of argparse, which
# (with gettext) would stay in every worker's memory for one call.
_VALUED = {"--predictor": "predictor", "--root": "root", "--train": "train"}


def _usage_error(message: str) -> "SystemExit":
    sys.stderr.write(USAGE.split("\n\n")[0] + f"\nkiln_worker.py: error: {message}\n")
    return SystemExit(2)


def parse_args(argv: Optional[List[str]]) -> SimpleNamespace:
    args = SimpleNamespace(predictor=None, root=os.getcwd(), train=None, schema_only=False)
    items = list(sys.argv[1:] if argv is None else argv)
    while items:
        item = items.pop(0)
        name, eq, value = item.partition("=")
        if item in ("-h", "--help"):
            sys.stdout.write(USAGE)
            raise SystemExit(0)
        if item == "--schema-only":
            args.schema_only = True
        elif name in _VALUED:
            if not eq:
                if not items or items[0].startswith("--"):
                    raise _usage_error(f"argument {name}: expected one argument")
                value = items.pop(0)
            setattr(args, _VALUED[name], value)
        else:
            raise _usage_error(f"unrecognized arguments: {item}")
    return args


def _prepare(root: str) -> str:
    root = os.path.abspath(root)
    if root not in sys.path:
        sys.path.insert(1, root)  # after kiln's own directory, so `cog` stays ours
    os.chdir(root)
    return root


def schema_only(args: SimpleNamespace) -> int:
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


def serve(args: SimpleNamespace, fd_in: int = 3, fd_out: int = 4) -> int:
    try:
        os.fstat(fd_in)
        os.fstat(fd_out)
    except OSError:
        sys.stderr.write("kiln_worker.py must be started by the kiln server with fds 3 and 4 open "
                         "(use --schema-only to print the schema)\n")
        return 2
    lazy_ssl.install()  # before the predictor's module loads: its `import asyncio` skips ssl too
    channel = Channel(fd_out)
    sys.stdout = LogStream(channel, "stdout", 1)
    sys.stderr = LogStream(channel, "stderr", 2)
    root = _prepare(args.root)
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
    if main_target(targets).is_async:
        from .async_mode import AsyncWorker  # asyncio only for async predictors (ssl on first use: lazy_ssl)

        AsyncWorker(root, channel, targets).serve(fd_in)
    else:
        SyncWorker(root, channel, targets).serve(fd_in)
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
