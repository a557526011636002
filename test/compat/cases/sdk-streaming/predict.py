from typing import Iterator

from cog import BasePredictor, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self, n: int = 3) -> Iterator[str]:
        for i in range(n):
            yield f"token{i}"
