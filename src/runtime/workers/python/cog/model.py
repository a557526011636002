"""BaseModel for structured outputs, without pydantic: a plain class whose annotated attributes are fields."""

import copy
from typing import Any, Dict, Tuple

_NO_DEFAULT = object()


def _collect_fields(cls: type) -> Dict[str, Tuple[Any, Any]]:
    """Annotated attributes across the class hierarchy, base classes first: name -> (annotation, default)."""
    fields: Dict[str, Tuple[Any, Any]] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or klass is BaseModel:
            continue
        for name, annotation in klass.__dict__.get("__annotations__", {}).items():
            if name.startswith("_"):
                continue
            fields[name] = (annotation, klass.__dict__.get(name, _NO_DEFAULT))
    return fields


class BaseModel:
    """Subclass with annotated fields (`class Output(BaseModel): text: str`) and construct with keywords."""

    __kiln_fields__: Dict[str, Tuple[Any, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__kiln_fields__ = _collect_fields(cls)

    def __init__(self, **data: Any) -> None:
        fields = type(self).__kiln_fields__
        unknown = [k for k in data if k not in fields]
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field(s) {', '.join(unknown)}; "
                            f"fields are: {', '.join(fields) or '(none)'}")
        for name, (_annotation, default) in fields.items():
            if name in data:
                value = data[name]
            elif default is not _NO_DEFAULT:
                value = copy.copy(default)
            else:
                raise TypeError(f"{type(self).__name__}: missing required field '{name}'")
            object.__setattr__(self, name, value)

    @classmethod
    def model_fields_with_defaults(cls) -> Dict[str, Tuple[Any, Any]]:
        return dict(cls.__kiln_fields__)

    def model_dump(self) -> Dict[str, Any]:
        return {name: getattr(self, name) for name in type(self).__kiln_fields__}

    def dict(self) -> Dict[str, Any]:  # pydantic v1 spelling
        return self.model_dump()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.model_dump() == self.model_dump()  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.model_dump().items())
        return f"{type(self).__name__}({inner})"


def has_no_default(value: Any) -> bool:
    return value is _NO_DEFAULT
