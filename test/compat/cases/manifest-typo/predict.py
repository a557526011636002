from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "hi") -> str:
        return text
