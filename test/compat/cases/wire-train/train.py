import os
import tempfile

from cog import BaseModel, Input, Path


class TrainingOutput(BaseModel):
    weights: Path


def train(n: int = Input(description="Dimension of weights to generate")) -> TrainingOutput:
    path = os.path.join(tempfile.mkdtemp(), "weights.bin")
    with open(path, "w") as fh:
        for _ in range(n):
            fh.write("a")
    return TrainingOutput(weights=Path(path))
