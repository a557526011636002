from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, case: str) -> int:
        if case == "ok":
            return 3
        if case == "bool":
            return True
        return "foo"  # type: ignore[return-value]
