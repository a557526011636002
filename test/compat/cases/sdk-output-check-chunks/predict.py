from typing import Iterator

from cog import BasePredictor


class Chunks(BasePredictor):
    def predict(self) -> Iterator[int]:
        yield 1
        yield "two"  # type: ignore[misc]
