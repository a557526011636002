from typing import List

from cog import BasePredictor


class Floats(BasePredictor):
    def predict(self) -> List[float]:
        return [1, 2.5]
