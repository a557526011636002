from typing import TypedDict

from cog import BasePredictor


class Box(TypedDict):
    x: int
    y: int


class Predictor(BasePredictor):
    def predict(self, box: Box) -> Box:
        return {"x": box["y"], "y": box["x"]}
