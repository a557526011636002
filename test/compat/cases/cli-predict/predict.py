from typing import Union

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(default="hi"),
                value: Union[int, float, str] = Input(default=0)) -> str:
        shown = text if not text.startswith("data:") else "data-uri:" + text.split(",", 1)[0]
        return f"{shown.upper()} {type(value).__name__}:{value}"
