from typing import Iterator

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, n: int = 3) -> Iterator[str]:
        for i in range(n):
            yield f"step {i}"
