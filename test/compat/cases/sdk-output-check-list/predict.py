from typing import Iterator, List

from cog import BasePredictor, Path


class Predictor(BasePredictor):
    def predict(self, case: str) -> int:
        if case == "ok":
            return 3
        if case == "bool":
            return True
        return "foo"  # type: ignore[return-value]


class Floats(BasePredictor):
    def predict(self) -> List[float]:
        return [1, 2.5]


class Chunks(BasePredictor):
    def predict(self) -> Iterator[int]:
        yield 1
        yield "two"  # type: ignore[misc]
