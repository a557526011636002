"""The types Cog predictors annotate their inputs and outputs with: Input, Path, File, Secret, iterators."""

import collections.abc
import io
import os
import pathlib
from typing import Any, Generic, List, Optional, TypeVar, Union

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class _Missing:
    """Sentinel for "no default": the input is required."""

    def __repr__(self) -> str:
        return "<required>"


MISSING = _Missing()


class FieldInfo:
    """What Input(...) returns: the default and constraints of one predictor parameter."""

    __slots__ = (
        "default",
        "description",
        "ge",
        "le",
        "min_length",
        "max_length",
        "regex",
        "choices",
        "deprecated",
        "accept",
    )

    def __init__(self, default: Any = MISSING, description: Optional[str] = None, ge: Optional[float] = None,
                 le: Optional[float] = None, min_length: Optional[int] = None, max_length: Optional[int] = None,
                 regex: Optional[str] = None, choices: Optional[List[Any]] = None,
                 deprecated: Optional[bool] = None, accept: Optional[str] = None) -> None:
        self.default = default
        self.description = description
        self.ge = ge
        self.le = le
        self.min_length = min_length
        self.max_length = max_length
        self.regex = regex
        self.choices = choices
        self.deprecated = deprecated
        self.accept = accept

    def __repr__(self) -> str:
        parts = [f"{k}={getattr(self, k)!r}" for k in self.__slots__ if getattr(self, k) not in (None, MISSING)]
        return f"Input({', '.join(parts)})"


def Input(  # noqa: N802 - Cog's public name
    default: Any = MISSING,
    description: Optional[str] = None,
    ge: Optional[float] = None,
    le: Optional[float] = None,
    min_length: Optional[int] = None,
    max_length: Optional[int] = None,
    regex: Optional[str] = None,
    choices: Optional[List[Union[str, int, float]]] = None,
    deprecated: Optional[bool] = None,
    accept: Optional[str] = None,
    **unknown: Any,
) -> Any:
    """Declares a predictor input: its default (none = required), description and constraints.

    `accept` (file inputs) lists the media types a client should offer, e.g. "image/*"; it becomes the
    `x-cog-accept` schema key.
    """
    if unknown:
        names = ", ".join(sorted(unknown))
        raise TypeError(f"Input() got unsupported argument(s): {names} (supported: default, description, ge, le, "
                        "min_length, max_length, regex, choices, deprecated, accept)")
    return FieldInfo(default, description, ge, le, min_length, max_length, regex,
                     list(choices) if choices is not None else None, deprecated, accept)


class _PydanticField:
    """Lets a cog type be a pydantic model field: v1 asks __get_validators__, v2 __get_pydantic_core_schema__.
    Subclasses define `validate(value)`."""

    @classmethod
    def __get_validators__(cls) -> Any:
        yield cls.validate  # type: ignore[attr-defined]

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> Any:
        from pydantic_core import core_schema  # only reached when pydantic 2 is installed

        return core_schema.no_info_plain_validator_function(cls.validate)  # type: ignore[attr-defined]


# pathlib.Path cannot be subclassed directly before Python 3.12; its concrete POSIX class can.
class Path(pathlib.PosixPath, _PydanticField):
    """A file on local disk. Inputs of this type arrive as a local path; returning one produces a file output."""

    @classmethod
    def validate(cls, value: Any) -> "Path":
        if isinstance(value, cls):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(value)
        raise TypeError(f"expected a path, got {type(value).__name__}")


class File(io.IOBase, _PydanticField):
    """Deprecated by Cog in favour of Path: inputs arrive as an open binary file, outputs may be any file-like."""

    @classmethod
    def validate(cls, value: Any) -> io.IOBase:
        if isinstance(value, io.IOBase):
            return value
        if isinstance(value, (str, os.PathLike)):
            return open(value, "rb")  # noqa: SIM115 - handed to the predictor, which owns it
        raise TypeError(f"expected a file, got {type(value).__name__}")


class Secret(_PydanticField):
    """A sensitive string input: shown as ********** everywhere; read it with get_secret_value()."""

    __slots__ = ("_secret_value",)

    def __init__(self, secret_value: Optional[str] = None) -> None:
        self._secret_value = secret_value

    def get_secret_value(self) -> Optional[str]:
        return self._secret_value

    @classmethod
    def validate(cls, value: Any) -> "Secret":
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(value)
        raise TypeError(f"expected a string, got {type(value).__name__}")

    @property
    def secret_value(self) -> Optional[str]:
        return self._secret_value

    def __repr__(self) -> str:
        return f"Secret({self})"

    def __str__(self) -> str:
        return "**********" if self._secret_value is not None else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._secret_value == self._secret_value

    def __hash__(self) -> int:
        return hash(("Secret", self._secret_value))


class ConcatenateIterator(collections.abc.Iterator, Generic[_T_co]):
    """Annotation for streamed text whose chunks a client should join (LLM tokens)."""

    def __next__(self) -> _T_co:  # pragma: no cover - only used as an annotation
        raise StopIteration


class AsyncConcatenateIterator(collections.abc.AsyncIterator, Generic[_T_co]):
    """The async-generator flavour of ConcatenateIterator."""

    async def __anext__(self) -> _T_co:  # pragma: no cover - only used as an annotation
        raise StopAsyncIteration


class URLPath(Path):
    """A file known by its URL (Cog's name for a not-yet-downloaded input).

    kiln downloads URL inputs before predict() runs, so inputs arrive as plain `Path`s; URLPath exists for
    code that builds one itself. `convert()` downloads it; returned as an output it stays the URL.
    """

    source: str

    def __new__(cls, source: str = "", filename: Optional[str] = None, **_: Any) -> "URLPath":
        name = filename or os.path.basename(source.split("?", 1)[0].rstrip("/")) or "file"
        self = super().__new__(cls, name)
        self.source = source
        return self

    def __init__(self, source: str = "", filename: Optional[str] = None, **_: Any) -> None:
        if not hasattr(self, "source"):  # Python 3.12+ runs PurePath.__init__ with the arguments
            self.source = source
        try:
            super().__init__(self.name)  # type: ignore[call-arg]
        except TypeError:
            pass

    def convert(self) -> Path:
        """Downloads the URL into a temporary directory and returns the local Path."""
        import tempfile
        import urllib.request

        target = Path(tempfile.mkdtemp(prefix="cog-urlpath-")) / self.name
        with urllib.request.urlopen(self.source) as response, open(target, "wb") as out:  # noqa: S310
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        return target

    def unlink(self, missing_ok: bool = False) -> None:
        return None  # nothing local to remove


class URLFile(io.IOBase):
    """A read-only file-like object over a URL, opened on first read. As an output it stays the URL."""

    def __init__(self, url: str, filename: Optional[str] = None) -> None:
        super().__init__()
        self.url = url
        self.name = filename or os.path.basename(url.split("?", 1)[0].rstrip("/")) or "file"
        self._response: Any = None

    def _open(self) -> Any:
        if self._response is None:
            import urllib.request

            self._response = urllib.request.urlopen(self.url)  # noqa: S310 - the predictor chose the URL
        return self._response

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._open().read(size)

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        super().close()

    def __repr__(self) -> str:
        return f"URLFile({self.url!r})"


# What setup() receives as `weights`: a local path, a URL string, or None.
Weights = Union[Path, str, None]

# `cog.AsyncIterator`, as Cog's docs spell the async streaming annotation.
AsyncIterator = collections.abc.AsyncIterator
