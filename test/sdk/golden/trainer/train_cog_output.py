"""train_parity.py's trainer returning cog's own TrainingOutput instead of a class of its own."""
from cog import Input, Path, TrainingOutput


def train(
    data: Path = Input(description="Training data"),
    epochs: int = Input(description="Passes over the data", default=1, ge=1, le=50),
    rate: float = Input(default=0.0001),
) -> TrainingOutput:
    return TrainingOutput(weights=data)
