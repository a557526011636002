import time
from typing import Iterator

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, seconds: float = 10.0) -> str:
        print("sleeping", flush=True)
        time.sleep(seconds)
        return "woke"


class Chunks(BasePredictor):
    def predict(self, n: int = 2) -> Iterator[str]:
        for i in range(n):
            yield f"c{i}"
