from typing import Union

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, value: str | float = Input(description="A word or a number"),
                sizes: Union[int, list[int]] = Input(default=1)) -> str:
        return f"{type(value).__name__}:{value!r} {type(sizes).__name__}:{sizes!r}"
