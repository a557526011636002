"""Builds the PredictorSchema fragments (src/schema/types.ts) from a predictor's Python signature.

Keys are emitted in the canonical order of src/schema/fragments.ts (`canonicalize`), so a Python and an
equivalent TypeScript predictor produce byte-identical schemas.
"""

import inspect
import math
import pathlib
import re
import typing
from typing import Any, Callable, Dict, List, Optional, Tuple

from .annotations import NO_DEFAULT, SCALARS, TypeInfo, describe, model_fields, type_name
from .exceptions import SchemaError
from .types import MISSING, FieldInfo, Secret

JsonSchema = Dict[str, Any]


class ParamSpec:
    """One predictor parameter: how to decode its value and what to pass when it is absent."""

    def __init__(self, name: str, info: TypeInfo, field: FieldInfo) -> None:
        self.name = name
        self.info = info
        self.field = field

    @property
    def fallback(self) -> Any:
        return None if self.field.default is MISSING else self.field.default


class Signature:
    def __init__(self, params: List[ParamSpec], output: TypeInfo, input_schema: JsonSchema,
                 output_schema: JsonSchema, components: Dict[str, JsonSchema], extra_inputs: bool = False) -> None:
        self.params = params
        self.extra_inputs = extra_inputs  # predict(**kwargs): undeclared inputs are passed through
        self.output = output
        self.input_schema = input_schema
        self.output_schema = output_schema
        self.components = components


# Mirrors KEY_ORDER in src/schema/fragments.ts; keep the two lists identical.
_KEY_ORDER = ["allOf", "$ref", "type", "format", "items", "properties", "required", "additionalProperties", "title",
              "description", "default", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
              "minLength", "maxLength", "minItems", "maxItems", "pattern", "nullable", "deprecated", "writeOnly",
              "x-cog-secret", "x-cog-array-type", "x-cog-array-display", "x-order"]
_RANK = {key: index for index, key in enumerate(_KEY_ORDER)}


def canonicalize(schema: JsonSchema) -> JsonSchema:
    """Known keys in _KEY_ORDER, others after them alphabetically; `properties` keep declaration order."""
    out: JsonSchema = {}
    for key in sorted(schema, key=lambda k: (_RANK.get(k, len(_KEY_ORDER)), k)):
        value = schema[key]
        if key == "properties" and isinstance(value, dict):
            value = {n: canonicalize(p) if isinstance(p, dict) else p for n, p in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = canonicalize(value)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            value = [canonicalize(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


def title_case(name: str) -> str:
    """Cog/pydantic titles: underscores become spaces, then Python's str.title()."""
    return name.replace("_", " ").title()


def type_fragment(info: TypeInfo) -> JsonSchema:
    kind = info.kind
    if kind == "str":
        return {"type": "string"}
    if kind == "int":
        return {"type": "integer"}
    if kind == "float":
        return {"type": "number"}
    if kind == "bool":
        return {"type": "boolean"}
    if kind in ("path", "file"):
        return {"type": "string", "format": "uri"}
    if kind == "secret":
        return {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True}
    if kind == "dict":
        return {"type": "object"}
    if kind == "list":
        assert info.item is not None
        return {"type": "array", "items": _nullable(type_fragment(info.item), info.item)}
    if kind == "literal":
        return {"type": _enum_type(info.values), "enum": list(info.values)}
    if kind == "model":
        assert info.model is not None
        return _model_fragment(info.model)
    if kind == "union":
        return {"anyOf": [_nullable(type_fragment(m), m) for m in info.members]}
    return {}  # any / none


def _nullable(fragment: JsonSchema, info: TypeInfo) -> JsonSchema:
    if info.nullable:
        fragment["nullable"] = True
    return fragment


def _enum_type(values: List[Any]) -> str:
    return "string" if all(isinstance(v, str) for v in values) else "integer"


def _model_fragment(model: type) -> JsonSchema:
    properties: JsonSchema = {}
    required: List[str] = []
    for name, annotation, is_required, default in model_fields(model):
        try:
            info = describe(annotation, output=True, top=False)
        except SchemaError as err:
            raise SchemaError(f"field '{name}' of {model.__name__}: {err}") from None
        prop = {"title": title_case(name), **type_fragment(info)}
        if default is not NO_DEFAULT and default is not None and _is_json(default):
            prop["default"] = _json_default(default)
        properties[name] = _nullable(prop, info)
        if is_required and not info.nullable:
            required.append(name)
    fragment: JsonSchema = {"title": model.__name__, "type": "object", "properties": properties}
    if required:
        fragment["required"] = required
    return fragment


def _is_json(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, tuple, dict, pathlib.PurePath))


def model_component(info: TypeInfo, title: str) -> Optional[Tuple[str, JsonSchema]]:
    """A model output whose class is not named like the Output component gets its own component, and the
    Output becomes a `$ref` to it (what Cog's pydantic-generated document holds)."""
    if info.kind != "model" or info.model is None or info.model.__name__ == title:
        return None
    return info.model.__name__, canonicalize(_model_fragment(info.model))


def output_schema(info: TypeInfo, title: str) -> JsonSchema:
    component = model_component(info, title)
    if component is not None:
        return _nullable({"$ref": f"#/components/schemas/{component[0]}", "title": title}, info)
    fragment = type_fragment(info)
    fragment.pop("title", None)
    schema: JsonSchema = {"title": title, **fragment}
    if info.iterator:
        schema["x-cog-array-type"] = "iterator"
        if info.iterator == "concatenate":
            schema["x-cog-array-display"] = "concatenate"
    return _nullable(schema, info)


def build_signature(fn: Callable[..., Any], *, input_title: str = "Input",
                    output_title: str = "Output") -> Signature:
    """Raises SchemaError naming the parameter and the reason."""
    target = inspect.unwrap(getattr(fn, "__func__", fn))
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception as err:  # noqa: BLE001 - any failure here is a user annotation problem
        raise SchemaError(f"cannot resolve type annotations: {type(err).__name__}: {err}") from err
    params: List[ParamSpec] = []
    properties: JsonSchema = {}
    required: List[str] = []
    components: Dict[str, JsonSchema] = {}
    extra_inputs = _takes_kwargs(fn)
    for index, param in enumerate(_parameters(fn)):
        spec, prop, component = _parameter(param, hints, index)
        params.append(spec)
        properties[param.name] = prop
        if component is not None:
            components[param.name] = component
        if spec.field.default is MISSING and not spec.info.nullable:
            required.append(param.name)
    input_schema: JsonSchema = {"title": input_title, "type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    if extra_inputs:
        input_schema["additionalProperties"] = True
    if "return" not in hints:
        raise SchemaError("a return type annotation is required (e.g. `-> str`, `-> Path`, `-> Iterator[str]`)")
    try:
        out = describe(hints["return"], output=True)
    except SchemaError as err:
        raise SchemaError(f"return type: {err}") from None
    extra = model_component(out, output_title)
    if extra is not None:
        if extra[0] in components or extra[0] in _RESERVED_COMPONENTS:
            raise SchemaError(f"return type: the output class name {extra[0]} clashes with another schema component; "
                              "rename the class")
        components[extra[0]] = extra[1]
    return Signature(params, out, canonicalize(input_schema), canonicalize(output_schema(out, output_title)),
                     {name: canonicalize(c) for name, c in components.items()}, extra_inputs)


# Component names of the OpenAPI envelope (src/schema/openapi.ts); a model class may not take one.
_RESERVED_COMPONENTS = ("Input", "Output", "TrainingInput", "TrainingOutput", "PredictionRequest",
                        "PredictionResponse", "TrainingRequest", "TrainingResponse", "Status", "WebhookEvent",
                        "HTTPValidationError", "ValidationError")


def _takes_kwargs(fn: Callable[..., Any]) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())


def _parameters(fn: Callable[..., Any]) -> List[inspect.Parameter]:
    """The declared inputs. `**kwargs` (Cog 0.16 passed any input through it) is allowed: undeclared inputs
    reach it as JSON values. `*args` has no input names, so it is refused."""
    result = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise SchemaError(f"input '*{param.name}': *args cannot carry named inputs; declare each input "
                              f"(name: type = Input(...)), or take **kwargs to accept undeclared ones")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise SchemaError(f"input '{param.name}': positional-only parameters are not supported")
        result.append(param)
    return result


def _parameter(param: inspect.Parameter, hints: Dict[str, Any], index: int) -> Tuple[ParamSpec, JsonSchema,
                                                                                   Optional[JsonSchema]]:
    name = param.name
    if name not in hints:
        raise SchemaError(f"input '{name}' has no type annotation (e.g. `{name}: str = Input(...)`)")
    try:
        info = describe(hints[name], output=False)
    except SchemaError as err:
        raise SchemaError(f"input '{name}': {err}") from None
    default = param.default
    field = default if isinstance(default, FieldInfo) else FieldInfo(
        MISSING if default is inspect.Parameter.empty else default)
    problem = _check_field(info, field)
    if problem:
        raise SchemaError(f"input '{name}': {problem}")
    spec = ParamSpec(name, info, field)
    prop: JsonSchema = {"x-order": index}
    component = None
    choices = field.choices if field.choices is not None else (info.values if info.kind == "literal" else None)
    if choices is not None:
        prop["allOf"] = [{"$ref": f"#/components/schemas/{name}"}]
        component = {"title": name, "description": "An enumeration.", "enum": list(choices),
                     "type": _enum_type(choices)}
    else:
        prop["title"] = title_case(name)
        prop.update(type_fragment(info))
    if field.default is not MISSING and field.default is not None:
        prop["default"] = _json_default(field.default)
    if field.description is not None:
        prop["description"] = field.description
    for key, value in (("minimum", field.ge), ("maximum", field.le), ("minLength", field.min_length),
                       ("maxLength", field.max_length), ("pattern", field.regex)):
        if value is not None:
            prop[key] = value
    if field.deprecated:
        prop["deprecated"] = True
    if field.accept is not None:
        prop["x-cog-accept"] = field.accept
    if info.nullable or field.default is None:  # default=None accepts an explicit null, as in Cog
        prop["nullable"] = True
    return spec, prop, component


def _json_default(value: Any) -> Any:
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, Secret):
        return value.get_secret_value()
    if isinstance(value, (list, tuple)):
        return [_json_default(v) for v in value]
    return value


def _check_field(info: TypeInfo, field: FieldInfo) -> Optional[str]:
    """Constraints must fit the type, and the default must satisfy its own constraints."""
    kind = info.kind
    if (field.ge is not None or field.le is not None) and kind not in ("int", "float"):
        return f"ge/le apply to int and float inputs, not {kind}"
    for bound_name in ("ge", "le"):
        bound = getattr(field, bound_name)
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            return f"{bound_name} must be a number, got {bound!r}"
    if (field.min_length is not None or field.max_length is not None or field.regex is not None) and kind != "str":
        return f"min_length/max_length/regex apply to str inputs, not {kind}"
    for length_name in ("min_length", "max_length"):
        length = getattr(field, length_name)
        if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 0):
            return f"{length_name} must be a non-negative integer, got {length!r}"
    if field.regex is not None:
        try:
            re.compile(field.regex)
        except (re.error, TypeError) as err:
            return f"regex {field.regex!r} does not compile: {err}"
    if field.choices is not None:
        if kind == "literal":
            return "use either Literal[...] or choices=, not both"
        if kind not in ("str", "int", "float") or not field.choices:
            return f"choices need a non-empty list and a str or int input, not {kind}"
        for choice in field.choices:
            problem = _check_value(info, choice, FieldInfo())
            if problem:
                return f"choice {choice!r}: {problem}"
        if kind == "float" or not (all(isinstance(c, str) for c in field.choices)
                                   or all(isinstance(c, int) and not isinstance(c, bool) for c in field.choices)):
            return "choices must be all strings or all integers"
    if field.default is not MISSING and field.default is not None:
        problem = _check_value(info, field.default, field)
        if problem:
            return f"default {field.default!r} is invalid: {problem}"
    return None


def _check_value(info: TypeInfo, value: Any, field: FieldInfo) -> Optional[str]:
    kind = info.kind
    if value is None:
        return None if info.nullable else "None is not allowed (annotate it Optional[...])"
    if kind == "union":
        problems = [_check_value(m, value, FieldInfo()) for m in info.members]
        if all(problems):
            return f"matches none of the union's members ({'; '.join(p for p in problems if p)})"
        return None
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            return f"expected a list, got {type(value).__name__}"
        assert info.item is not None
        for item in value:
            problem = _check_value(info.item, item, FieldInfo())
            if problem:
                return problem
        return None
    if kind in SCALARS:
        ok = {"str": isinstance(value, str), "bool": isinstance(value, bool),
              "int": isinstance(value, int) and not isinstance(value, bool),
              "float": isinstance(value, (int, float)) and not isinstance(value, bool)}[kind]
        if not ok:
            return f"expected {kind}, got {type(value).__name__}"
        if kind == "float" and not math.isfinite(value):
            return "must be a finite number"
    elif kind in ("path", "file") and not isinstance(value, (str, pathlib.PurePath)):
        return f"expected a path or URL string, got {type(value).__name__}"
    elif kind == "secret" and not isinstance(value, (str, Secret)):
        return f"expected a string, got {type(value).__name__}"
    elif kind == "literal" and value not in info.values:
        return f"must be one of {info.values!r}"
    elif kind == "dict" and not isinstance(value, dict):
        return f"expected a dict, got {type(value).__name__}"
    if field.ge is not None and value < field.ge:
        return f"must be >= {field.ge}"
    if field.le is not None and value > field.le:
        return f"must be <= {field.le}"
    if field.min_length is not None and len(value) < field.min_length:
        return f"must be at least {field.min_length} characters"
    if field.max_length is not None and len(value) > field.max_length:
        return f"must be at most {field.max_length} characters"
    if field.regex is not None and re.search(field.regex, value) is None:
        return f"does not match the pattern {field.regex!r}"
    if field.choices is not None and value not in field.choices:
        return f"must be one of {field.choices!r}"
    return None


__all__ = ["ParamSpec", "Signature", "build_signature", "title_case", "type_name"]
