"""BaseRunner / BasePredictor: the classes Cog predictors subclass."""

from typing import Any, Optional, Union

from .scope import current_scope
from .types import Path


class BaseRunner:
    """Subclass and define `setup()` (optional, once) and `run(...)` or `predict(...)` (each request)."""

    def setup(self, weights: Optional[Union[Path, str]] = None) -> None:
        """Load the model; `weights` is COG_WEIGHTS when the method accepts it."""
        return None

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        current_scope().record_metric(key, value, mode)

    @property
    def scope(self) -> Any:
        return current_scope()


# Cog's historical name; both work and may be mixed.
BasePredictor = BaseRunner
