from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, prompt: str = Input(description="Prompt"), **kwargs) -> str:
        extra = ",".join(f"{k}={kwargs[k]!r}" for k in sorted(kwargs))
        return f"{prompt}|{extra}"
