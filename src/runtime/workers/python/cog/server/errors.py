"""Readable one-line causes for load and setup failures: file:line, exception, and a hint when we know one."""

import os
import sys
from types import TracebackType
from typing import List, Optional

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LoadError(Exception):
    """The predictor could not be loaded; the message is the whole user-facing cause."""


def _relative(path: str, root: str) -> str:
    try:
        rel = os.path.relpath(path, root)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _is_user_file(path: str, root: str) -> bool:
    absolute = os.path.abspath(path)
    return absolute.startswith(os.path.abspath(root) + os.sep) and not absolute.startswith(_PACKAGE_DIR + os.sep)


def user_location(tb: Optional[TracebackType], root: str) -> Optional[str]:
    """The innermost frame in the project's own files, as `file:line` (relative to the project root)."""
    import traceback  # (with textwrap) only once something failed: an idle worker never needs it

    frames = traceback.extract_tb(tb) if tb is not None else []
    chosen = None
    for frame in frames:
        if _is_user_file(frame.filename, root):
            chosen = frame
    if chosen is None and frames:
        chosen = frames[-1]
    if chosen is None:
        return None
    return f"{_relative(chosen.filename, root)}:{chosen.lineno}"


def describe_exception(err: BaseException, root: str) -> str:
    """`predict.py:3: ModuleNotFoundError: No module named 'torch'` plus a hint for common causes."""
    if isinstance(err, SyntaxError) and err.filename:
        text = f" ({err.text.strip()})" if err.text and err.text.strip() else ""
        return f"{_relative(err.filename, root)}:{err.lineno}: {type(err).__name__}: {err.msg}{text}"
    location = user_location(err.__traceback__, root)
    message = str(err) or type(err).__name__
    line = f"{type(err).__name__}: {message}" if str(err) else type(err).__name__
    if isinstance(err, ModuleNotFoundError) and err.name:
        line += (f". The module '{err.name.split('.')[0]}' is not installed for {sys.executable}: install the "
                 "project's Python packages (pip install -r requirements.txt, or the python_packages of "
                 "cog.yaml), or run it in Docker with `kiln predict` (without --no-docker)")
    elif isinstance(err, ImportError) and (err.name or "").split(".")[0] == "cog":
        line += ". kiln's cog package does not provide this name; see docs/python-predictors.md for what it supports"
    return f"{location}: {line}" if location else line


def traceback_text(err: BaseException) -> str:
    """The full traceback, minus the frames of the kiln worker itself."""
    import traceback

    lines: List[str] = []
    for chunk in traceback.format_exception(type(err), err, err.__traceback__):
        if f"{os.sep}cog{os.sep}server{os.sep}" in chunk and chunk.lstrip().startswith("File "):
            continue
        lines.append(chunk)
    return "".join(lines)
