"""The Python side of the trainer parity test: a Cog trainer returning TrainingOutput."""
from cog import BaseModel, BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, text: str) -> str:
        return text


class TrainingOutput(BaseModel):
    weights: Path


def train(
    data: Path = Input(description="Training data"),
    epochs: int = Input(description="Passes over the data", default=1, ge=1, le=50),
    rate: float = Input(default=0.0001),
) -> TrainingOutput:
    return TrainingOutput(weights=data)
