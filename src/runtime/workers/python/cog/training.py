"""What Cog trainers return: `TrainingOutput(weights=Path(...))`, the trained weights as one file."""

from .model import BaseModel
from .types import Path


class TrainingOutput(BaseModel):
    """The usual result of `train()`: the weights file (its URL is what `/trainings` reports as output.weights).

    Subclass it to return more fields next to the weights (metrics, a config file): every annotated
    attribute becomes a field of the TrainingOutput schema.
    """

    weights: Path
