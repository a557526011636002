"""Imports the predictor module named in cog.yaml (`predict.py:Predictor`) and finds its entry points."""

import importlib.util
import inspect
import os
import sys
from types import ModuleType
from typing import Any, Callable, Optional

from ..decorators import CONCURRENCY_ATTR, STREAMING_ATTR, marker
from ..exceptions import SchemaError
from ..schema import Signature, build_signature
from .errors import LoadError, describe_exception


def _split_ref(ref: str) -> "tuple[str, str]":
    path, sep, name = ref.rpartition(":")
    if not sep or not path or not name:
        raise LoadError(f"predictor reference {ref!r} must look like 'predict.py:Predictor'")
    return path, name


def load_module(root: str, path: str) -> ModuleType:
    full = path if os.path.isabs(path) else os.path.join(root, path)
    if not os.path.isfile(full):
        raise LoadError(f"{path}: file not found (looked in {root}); check the predict/train entry of cog.yaml")
    module_name = os.path.splitext(os.path.basename(full))[0]
    if module_name in sys.modules and getattr(sys.modules[module_name], "__file__", None) == full:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, full)
    if spec is None or spec.loader is None:
        raise LoadError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # so pickling and `import predict` inside the project work
    try:
        spec.loader.exec_module(module)
    except BaseException as err:  # noqa: BLE001 - SystemExit at import is a load failure too
        sys.modules.pop(module_name, None)
        raise LoadError(describe_exception(err, root)) from err
    return module


def _defined_names(module: ModuleType) -> str:
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value):
            names.append(f"{name} (class)")
        elif inspect.isfunction(value):
            names.append(f"{name} (function)")
    return ", ".join(names) if names else "no classes or functions"


class Target:
    """One entry point (predictor or trainer): the callables and the schema of its signature."""

    def __init__(self, path: str, name: str, obj: Any, method: str) -> None:
        self.path = path
        self.name = name
        self.obj = obj
        self.method = method
        self.is_class = inspect.isclass(obj)
        self.instance: Any = None
        self.fn: Optional[Callable[..., Any]] = None if self.is_class else obj
        unbound = getattr(obj, method) if self.is_class else obj
        self.is_async = inspect.iscoroutinefunction(unbound) or inspect.isasyncgenfunction(unbound)
        self.has_healthcheck = self.is_class and callable(getattr(obj, "healthcheck", None))
        self.signature: Optional[Signature] = None
        # Set when this entry point is another method of the predictor's own class (same instance).
        self.shares: Optional["Target"] = None
        method_obj = getattr(obj, method, None) if self.is_class else None
        # @cog.concurrent(max=N) / @cog.streaming, on the class or on its predict()
        self.concurrency: Optional[int] = marker(obj, method_obj, CONCURRENCY_ATTR)
        self.streaming = bool(marker(obj, method_obj, STREAMING_ATTR))

    def label(self) -> str:
        return f"{self.name}.{self.method}()" if self.is_class else f"{self.name}()"

    def line(self) -> int:
        fn = getattr(self.obj, self.method) if self.is_class else self.obj
        code = getattr(inspect.unwrap(fn), "__code__", None)
        return code.co_firstlineno if code is not None else 0

    def build_schema(self, input_title: str, output_title: str) -> Signature:
        # A bare instance (no __init__) gives the bound signature without running user code.
        fn = getattr(object.__new__(self.obj), self.method) if self.is_class else self.obj
        try:
            self.signature = build_signature(fn, input_title=input_title, output_title=output_title)
        except SchemaError as err:
            raise LoadError(f"{self.path}:{self.line()}: {self.label()}: {err}") from err
        except Exception as err:  # noqa: BLE001 - an annotation we did not foresee: still say where
            raise LoadError(f"{self.path}:{self.line()}: {self.label()}: cannot build the schema: "
                            f"{type(err).__name__}: {err}") from err
        return self.signature

    def instantiate(self) -> None:
        if self.is_class and self.instance is None:
            if self.shares is not None:
                self.shares.instantiate()
                self.instance = self.shares.instance
            else:
                self.instance = self.obj()
            self.fn = getattr(self.instance, self.method)

    def bound(self, name: str) -> Optional[Callable[..., Any]]:
        return getattr(self.instance, name, None) if self.instance is not None else None


def load_target(root: str, ref: str, kind: str) -> Target:
    path, name = _split_ref(ref)
    module = load_module(root, path)
    if not hasattr(module, name):
        key = "train" if kind == "train" else "predict"
        raise LoadError(f"{path}: does not define '{name}' (cog.yaml {key}: \"{ref}\"). "
                        f"{path} defines: {_defined_names(module)}")
    obj = getattr(module, name)
    if inspect.isclass(obj):
        methods = ("train",) if kind == "train" else ("run", "predict")
        method = next((m for m in methods if callable(getattr(obj, m, None))), None)
        if method is None:
            wanted = "a train() method" if kind == "train" else "a run() or predict() method"
            raise LoadError(f"{path}: class {name} has no {wanted}")
        return Target(path, name, obj, method)
    if callable(obj):
        return Target(path, name, obj, name)
    raise LoadError(f"{path}: '{name}' is a {type(obj).__name__}, not a class or function")
