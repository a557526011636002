import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        time.sleep(30)

    def predict(self) -> str:
        return "never"
