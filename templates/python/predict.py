# The model's prediction interface (Cog-compatible): kiln derives the HTTP API and its OpenAPI schema
# from the predict() signature. Try it: kiln predict -i prompt="hello" -i repeat=3
from typing import Optional

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Runs once when the server starts: load your model into memory here."""
        self.greeting = "hello from kiln"

    def predict(
        self,
        prompt: str = Input(description="Text to transform", default="hello from kiln"),
        repeat: int = Input(description="How many times to repeat the text", ge=1, le=10, default=1),
        image: Optional[Path] = Input(description="An optional image; its size is reported", default=None),
    ) -> str:
        """Runs one prediction."""
        text = " ".join([prompt] * repeat)
        if image is not None:
            text += f" (image: {image.stat().st_size} bytes)"
        return text
