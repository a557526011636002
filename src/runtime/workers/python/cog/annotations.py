"""Turns Python type annotations into a small description (TypeInfo) the schema and the worker both use."""

import collections.abc
import pathlib
import sys
import types
import typing
from typing import Any, List, Literal, Optional, Union, get_args, get_origin

from .exceptions import SchemaError
from .model import BaseModel
from .opaque import is_opaque
from .types import AsyncConcatenateIterator, ConcatenateIterator, File, Secret

_NONE = type(None)
_UNION_TYPES: tuple = (Union, getattr(types, "UnionType", Union))
_SYNC_ITERATORS = (collections.abc.Iterator, collections.abc.Iterable, collections.abc.Generator)
_ASYNC_ITERATORS = (collections.abc.AsyncIterator, collections.abc.AsyncIterable, collections.abc.AsyncGenerator)
SCALARS = ("str", "int", "float", "bool")
INPUT_TYPES = ("str, int, float, bool, cog.Path, cog.File, cog.Secret, list[T], Optional[T], Literal[...], "
               "dict, TypedDict, Any, Annotated[T, cog.Opaque], and unions of str/int/float/bool/list/dict")
# Union members Cog accepts in inputs: the JSON-native kinds, which a JSON value tells apart on its own.
UNION_KINDS = ("str", "int", "float", "bool", "list", "dict", "any")


class TypeInfo:
    """One annotation, normalised. kind: str int float bool path file secret list literal dict any model none."""

    def __init__(self, kind: str, *, item: Optional["TypeInfo"] = None, values: Optional[List[Any]] = None,
                 model: Optional[type] = None, members: Optional[List["TypeInfo"]] = None) -> None:
        self.kind = kind
        self.item = item
        self.values = values or []
        self.model = model
        self.members = members or []  # kind "union": the non-None members, in declaration order
        self.nullable = False
        self.iterator: Optional[str] = None  # None | "iterator" | "concatenate" (outputs only)

    def has(self, kind: str) -> bool:
        return (self.kind == kind or (self.item is not None and self.item.has(kind))
                or any(m.has(kind) for m in self.members))


def is_plain_class(tp: Any) -> bool:
    """A real class, not a parameterised generic (Python 3.10 reports list[int] as a type)."""
    return isinstance(tp, type) and get_origin(tp) is None and not isinstance(tp, types.GenericAlias)


def type_name(tp: Any) -> str:
    if tp is _NONE:
        return "None"
    if is_plain_class(tp):
        return tp.__name__ if tp.__module__ in ("builtins", "cog.types", "cog") else f"{tp.__module__}.{tp.__qualname__}"
    return repr(tp).replace("typing.", "")


def is_dataclass(obj: Any) -> bool:
    """dataclasses.is_dataclass without importing dataclasses: no dataclass exists before something imported it."""
    module = sys.modules.get("dataclasses")
    return module is not None and module.is_dataclass(obj)


def is_model_class(tp: Any) -> bool:
    if not is_plain_class(tp):
        return False
    if issubclass(tp, BaseModel) or is_dataclass(tp):
        return True
    # pydantic models, when the project has pydantic installed
    return hasattr(tp, "model_fields") or hasattr(tp, "__fields__")


def is_typed_dict(tp: Any) -> bool:
    if typing.is_typeddict(tp):
        return True
    # typing_extensions.TypedDict classes, which typing.is_typeddict does not know on older Pythons
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__") and hasattr(tp, "__required_keys__")


def describe(tp: Any, *, output: bool, top: bool = True) -> TypeInfo:
    """Raises SchemaError (message without location) when the annotation is not supported."""
    if tp is Any:
        return TypeInfo("any")
    if tp in (str, int, float, bool):
        return TypeInfo(tp.__name__)
    origin = get_origin(tp)
    if origin is typing.Annotated:
        inner, *metadata = get_args(tp)
        if any(is_opaque(m) for m in metadata):
            return _opaque(inner, output=output)
        return describe(inner, output=output, top=top)  # other metadata (pydantic Field, docs) is ignored
    if is_typed_dict(tp):
        return TypeInfo("dict")
    if origin in _UNION_TYPES:
        args = get_args(tp)
        rest = [a for a in args if a is not _NONE]
        if len(rest) == 1:
            info = describe(rest[0], output=output, top=top)
            if info.iterator:
                raise SchemaError(f"an iterator cannot be Optional ({type_name(tp)})")
            info.nullable = True
            return info
        info = _union(tp, rest, output=output)
        info.nullable = len(rest) < len(args)
        return info
    if origin is Literal:
        return _literal(tp)
    if is_plain_class(tp):
        if issubclass(tp, Secret):
            return TypeInfo("secret")
        if issubclass(tp, File):
            return TypeInfo("file")
        if issubclass(tp, pathlib.PurePath):
            return TypeInfo("path")
    if tp in (dict, typing.Dict) or origin is dict:
        return TypeInfo("dict")
    if tp in (list, typing.List) or origin is list:
        args = get_args(tp)
        if not args:
            if not output:
                raise SchemaError("a list input needs an item type, e.g. list[str]")
            return TypeInfo("list", item=TypeInfo("any"))
        item = describe(args[0], output=output, top=False)
        if item.kind == "list" and not output:
            raise SchemaError(f"nested lists are not supported as inputs ({type_name(tp)})")
        return TypeInfo("list", item=item)
    if output:
        return _describe_output(tp, origin, top)
    if is_model_class(tp):
        raise SchemaError(f"{type_name(tp)} can be an output type but not an input type")
    raise SchemaError(f"unsupported type {type_name(tp)} (inputs may be {INPUT_TYPES})")


def _opaque(inner: Any, *, output: bool) -> TypeInfo:
    """Annotated[T, Opaque]: an object passed through untouched; list and Optional shapes are kept."""
    origin = get_origin(inner)
    if inner is list or origin is list:
        return TypeInfo("list", item=TypeInfo("dict"))
    if origin in _UNION_TYPES:
        rest = [a for a in get_args(inner) if a is not _NONE]
        if len(rest) == 1:
            info = _opaque(rest[0], output=output)
            info.nullable = True
            return info
    return TypeInfo("dict")


def _union(tp: Any, members: List[Any], *, output: bool) -> TypeInfo:
    described = []
    for member in members:
        info = describe(member, output=output, top=False)
        if info.kind not in UNION_KINDS or (info.kind == "list" and info.item is not None
                                           and info.item.kind not in UNION_KINDS):
            raise SchemaError(f"union members must be JSON-native (str, int, float, bool, list, dict); "
                              f"{type_name(member)} is not ({type_name(tp)})")
        described.append(info)
    kinds = [m.kind for m in described]
    for kind in ("str", "int", "float", "bool", "dict"):
        if kinds.count(kind) > 1:
            raise SchemaError(f"union {type_name(tp)} names {kind} twice")
    return TypeInfo("union", members=described)


def _describe_output(tp: Any, origin: Any, top: bool) -> TypeInfo:
    if tp is _NONE or tp is None:
        return TypeInfo("none")
    iterator_origin = origin if origin is not None else tp
    concatenate = iterator_origin in (ConcatenateIterator, AsyncConcatenateIterator)
    if concatenate or iterator_origin in _SYNC_ITERATORS or iterator_origin in _ASYNC_ITERATORS:
        if not top:
            raise SchemaError(f"an iterator may only be the whole output, not part of it ({type_name(tp)})")
        args = get_args(tp)
        item = describe(args[0], output=True, top=False) if args else TypeInfo("any")
        if concatenate and item.kind != "str":
            raise SchemaError(f"ConcatenateIterator yields str, not {type_name(args[0]) if args else 'Any'}")
        info = TypeInfo("list", item=item)
        info.iterator = "concatenate" if concatenate else "iterator"
        return info
    if is_model_class(tp):
        return TypeInfo("model", model=tp)
    raise SchemaError(f"unsupported output type {type_name(tp)}")


def _literal(tp: Any) -> TypeInfo:
    values = list(get_args(tp))
    if not values:
        raise SchemaError("Literal[] needs at least one value")
    if all(isinstance(v, str) for v in values):
        return TypeInfo("literal", values=values)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return TypeInfo("literal", values=values)
    raise SchemaError(f"Literal values must be all strings or all integers ({type_name(tp)})")


NO_DEFAULT = object()  # model_fields(): the field has no default


def model_fields(model: type) -> List[tuple]:
    """[(name, annotation, required, default)] of a BaseModel, dataclass or pydantic model."""
    if is_plain_class(model) and issubclass(model, BaseModel):
        hints = _hints(model)
        from .model import has_no_default

        return [(n, hints.get(n, a), has_no_default(d), NO_DEFAULT if has_no_default(d) else d)
                for n, (a, d) in model.__kiln_fields__.items()]
    if is_dataclass(model):
        import dataclasses

        hints = _hints(model)
        return [(f.name, hints.get(f.name, f.type),
                 f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,  # type: ignore[misc]
                 NO_DEFAULT if f.default is dataclasses.MISSING else f.default)
                for f in dataclasses.fields(model)]
    fields = getattr(model, "model_fields", None)
    if isinstance(fields, dict):  # pydantic v2
        return [(n, f.annotation, bool(f.is_required()), NO_DEFAULT if f.is_required() else f.default)
                for n, f in fields.items()]
    fields = getattr(model, "__fields__", {})  # pydantic v1
    return [(n, _v1_annotation(f), bool(f.required), NO_DEFAULT if f.required else f.default)
            for n, f in fields.items()]


def _v1_annotation(field: Any) -> Any:
    """pydantic 1.10 keeps the declared annotation; older 1.x only outer_type_, with Optional stripped."""
    annotation = getattr(field, "annotation", None)
    if annotation is not None:
        return annotation
    return Optional[field.outer_type_] if getattr(field, "allow_none", False) else field.outer_type_


def _hints(obj: Any) -> dict:
    try:
        return typing.get_type_hints(obj, include_extras=True)
    except Exception as err:  # noqa: BLE001 - reported with the class name
        raise SchemaError(f"cannot resolve the annotations of {getattr(obj, '__name__', obj)}: {err}") from err

