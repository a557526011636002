from typing import Optional

from cog import AsyncIterator, BasePredictor, ConcatenateIterator, Input, Opaque, Path, Secret, concurrent, streaming
from cog.types import FieldInfo, URLFile, URLPath, Weights


class Predictor(BasePredictor):
    def setup(self, weights: Optional[Weights] = None) -> None:
        self.names = sorted(n.__name__ if hasattr(n, "__name__") else repr(n) for n in
                            (AsyncIterator, ConcatenateIterator, Opaque, Path, Secret, concurrent, streaming,
                             FieldInfo, URLFile, URLPath))

    def predict(self, text: str = Input(default="x")) -> str:
        assert isinstance(Input(default=1), FieldInfo)
        link = URLPath(source="https://example.invalid/models/v1/weights.bin")
        return f"{text}:{link.name}:{len(self.names)}"
