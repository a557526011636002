"""Protocol values <-> Python values: inputs get wrapped (Path, File, Secret), outputs get encoded."""

import enum
import io
import math
import os
import pathlib
from typing import Any, Dict, List

from ..annotations import TypeInfo, is_dataclass, is_model_class
from ..model import BaseModel
from ..schema import ParamSpec
from ..types import MISSING, Path, Secret, URLFile, URLPath


class InputError(ValueError):
    """An input value the worker cannot turn into the annotated type."""


class DecodedInput:
    """kwargs for predict(), plus the files opened for File inputs (closed after the prediction)."""

    def __init__(self) -> None:
        self.kwargs: Dict[str, Any] = {}
        self.opened: List[io.IOBase] = []

    def close(self) -> None:
        for handle in self.opened:
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass


def decode_inputs(params: List[ParamSpec], values: Dict[str, Any], extra_inputs: bool = False) -> DecodedInput:
    """kwargs for predict(); with `extra_inputs` (predict takes **kwargs) undeclared keys pass through as JSON."""
    decoded = DecodedInput()
    try:
        for spec in params:
            value = values.get(spec.name, MISSING)
            if value is MISSING:
                value = spec.fallback
            decoded.kwargs[spec.name] = _decode(spec.info, value, decoded, spec.name)
        if extra_inputs:
            for name, value in values.items():
                if name not in decoded.kwargs and name.isidentifier():
                    decoded.kwargs[name] = value
    except BaseException:
        decoded.close()
        raise
    return decoded


# Item kinds _decode changes or checks; any other kind's items pass as they are (None included).
_DECODED_KINDS = frozenset({"list", "path", "file", "secret", "float", "union"})
_FLOAT_TYPES = frozenset({float, int})


def _decode(info: TypeInfo, value: Any, decoded: DecodedInput, where: str) -> Any:
    if value is None:
        return None
    kind = info.kind
    if kind == "list":
        if not isinstance(value, list):
            raise InputError(f"input '{where}': expected a list, got {type(value).__name__}")
        assert info.item is not None
        item_kind = info.item.kind
        # A big list of plain values (20 million floats) costs no Python call per item: _decode would give
        # each item back as it is, or float() of it.
        if item_kind not in _DECODED_KINDS:
            return list(value)
        if item_kind == "float":
            types = set(map(type, value))
            if types <= _FLOAT_TYPES:
                return list(map(float, value)) if int in types else list(value)
        return [_decode(info.item, item, decoded, where) for item in value]
    if kind == "path":
        if isinstance(value, Secret) or not isinstance(value, (str, os.PathLike)):
            raise InputError(f"input '{where}': expected a file path, got {type(value).__name__}")
        return Path(value)
    if kind == "file":
        if not isinstance(value, (str, os.PathLike)):
            raise InputError(f"input '{where}': expected a file path, got {type(value).__name__}")
        try:
            handle = open(value, "rb")  # noqa: SIM115 - closed after the prediction
        except OSError as err:
            raise InputError(f"input '{where}': cannot open {value}: {err.strerror}") from err
        decoded.opened.append(handle)
        return handle
    if kind == "secret":
        return value if isinstance(value, Secret) else Secret(str(value))
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "union":
        member = union_member(info, value)
        if member is None:
            raise InputError(f"input '{where}': {type(value).__name__} matches none of the union's members")
        return _decode(member, value, decoded, where)
    return value


def union_member(info: TypeInfo, value: Any) -> Any:
    """The member a JSON value belongs to, as Cog resolves it: exact JSON kind first (1 is an int when the union
    has int, 1.5 a float), then an int widened to float; bool never counts as a number."""
    kinds = {m.kind: m for m in info.members}
    if isinstance(value, bool):
        return kinds.get("bool") or kinds.get("any")
    if isinstance(value, int):
        return kinds.get("int") or kinds.get("float") or kinds.get("any")
    if isinstance(value, float):
        if value.is_integer() and "float" not in kinds and "int" in kinds:
            return kinds["int"]
        return kinds.get("float") or kinds.get("any")
    if isinstance(value, str):
        return kinds.get("str") or kinds.get("any")
    if isinstance(value, list):
        return kinds.get("list") or kinds.get("any")
    if isinstance(value, dict):
        return kinds.get("dict") or kinds.get("any")
    return kinds.get("any")


class OutputError(ValueError):
    """A predictor returned something that cannot be sent as JSON."""


def encode_output(value: Any) -> Any:
    return _encode(value, 0)


def _encode(value: Any, depth: int) -> Any:
    if depth > 64:
        raise OutputError("output is nested too deeply (or contains a cycle)")
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutputError(f"output contains {value}, which JSON cannot represent")
        return value
    if isinstance(value, URLPath):
        return value.source  # already somewhere a client can fetch it
    if isinstance(value, URLFile):
        return value.url
    if isinstance(value, pathlib.PurePath):
        return _file(pathlib.Path(value))
    if isinstance(value, Secret):
        return str(value)
    if isinstance(value, enum.Enum):
        return _encode(value.value, depth + 1)
    if isinstance(value, io.IOBase) or (hasattr(value, "read") and callable(value.read)):
        return _file_like(value)
    if isinstance(value, BaseModel):
        return {k: _encode(v, depth + 1) for k, v in value.model_dump().items()}
    if is_dataclass(value) and not isinstance(value, type):
        import dataclasses

        return {f.name: _encode(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if is_model_class(type(value)):  # pydantic
        dump = getattr(value, "model_dump", None) or getattr(value, "dict")
        return {k: _encode(getattr(value, k, v), depth + 1) for k, v in dump().items()}
    if isinstance(value, dict):
        return {str(k): _encode(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_encode(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # numpy scalars, without importing numpy
    if callable(item) and getattr(value, "shape", None) == ():
        return _encode(item(), depth + 1)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _encode(tolist(), depth + 1)
    raise OutputError(f"cannot encode an output of type {type(value).__module__}.{type(value).__qualname__}")


_SHOWN = 80


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def check_output(info: TypeInfo, value: Any, where: str = "output") -> Any:
    """The return value checked against the declared type, as Cog validates it: a mismatch fails the
    prediction. Returns the value with Cog's harmless conversions (int -> float, str -> Path)."""
    kind = info.kind
    if kind in ("any", "none"):
        return value
    if value is None:
        if info.nullable or kind in ("model",):
            return value
        raise OutputError(f"{where}: the predictor returned None, but its return type is not Optional")
    if kind == "union":
        for member in info.members:
            try:
                return check_output(member, value, where)
            except OutputError:
                continue
        raise OutputError(f"{where}: {_shown(value)} ({type(value).__name__}) matches none of the union's members")
    if kind == "list":
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, set, frozenset)):
            if not (hasattr(value, "tolist") and callable(value.tolist)):
                raise OutputError(f"{where}: expected a list, got {type(value).__name__} {_shown(value)}")
            value = value.tolist()
        assert info.item is not None
        return [check_output(info.item, item, f"{where}[{i}]") for i, item in enumerate(value)]
    if kind in ("int", "float", "bool", "str"):
        return _check_scalar(kind, value, where)
    if kind == "path":
        if isinstance(value, (str, os.PathLike)) and not isinstance(value, Secret):
            return value if isinstance(value, pathlib.PurePath) else Path(value)
        if isinstance(value, io.IOBase):
            return value  # Cog accepts a file object where a Path is declared
        raise OutputError(f"{where}: expected a cog.Path, got {type(value).__name__} {_shown(value)}")
    if kind == "file":
        if isinstance(value, (io.IOBase, str, os.PathLike)) or hasattr(value, "read"):
            return value
        raise OutputError(f"{where}: expected a file, got {type(value).__name__} {_shown(value)}")
    if kind == "secret":
        if isinstance(value, (Secret, str)):
            return value
        raise OutputError(f"{where}: expected a Secret or str, got {type(value).__name__}")
    if kind == "dict":
        if isinstance(value, dict) or is_model_class(type(value)) or isinstance(value, BaseModel):
            return value
        raise OutputError(f"{where}: expected a dict, got {type(value).__name__} {_shown(value)}")
    if kind == "model":
        model = info.model
        if model is not None and (isinstance(value, model) or isinstance(value, dict)):
            return value
        name = model.__name__ if model is not None else "a model"
        raise OutputError(f"{where}: expected {name}, got {type(value).__name__} {_shown(value)}")
    return value


def _check_scalar(kind: str, value: Any, where: str) -> Any:
    if isinstance(value, enum.Enum):
        value = value.value
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        value = item()
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == "str" and isinstance(value, str):
        return value
    raise OutputError(f"{where}: expected {kind}, got {type(value).__name__} {_shown(value)} "
                      f"(the return type annotation says {kind})")


def _file(path: pathlib.Path) -> Dict[str, str]:
    absolute = path if path.is_absolute() else pathlib.Path.cwd() / path
    if not absolute.is_file():
        raise OutputError(f"output file {absolute} does not exist (create it before returning the Path)")
    return {"$file": str(absolute)}


def _file_like(handle: Any) -> Dict[str, str]:
    name = getattr(handle, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        return _file(pathlib.Path(name))
    import tempfile  # with shutil, random, bz2, lzma: only for an open file returned as output

    base = os.path.basename(name) if isinstance(name, str) and name else "output"
    target = os.path.join(tempfile.mkdtemp(prefix="kiln-output-"), base)
    if hasattr(handle, "seek"):
        try:
            handle.seek(0)
        except (OSError, ValueError):
            pass
    with open(target, "wb") as out:
        chunk = handle.read(1 << 20)
        while chunk:
            out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            chunk = handle.read(1 << 20)
    return {"$file": target}


__all__ = ["DecodedInput", "InputError", "OutputError", "check_output", "decode_inputs", "encode_output"]
