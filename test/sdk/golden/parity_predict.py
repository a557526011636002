from typing import Optional
from cog import BasePredictor, Input, Path, Secret
class Predictor(BasePredictor):
    def predict(self,
        prompt: str = Input(description="Input prompt", min_length=1, max_length=100),
        negative_prompt: Optional[str] = Input(description="What to avoid", default=None),
        num_outputs: int = Input(description="Number of images", ge=1, le=4, default=1),
        guidance_scale: float = Input(ge=1, le=20, default=7.5),
        scheduler: str = Input(description="Scheduler", choices=["DDIM", "K_EULER"], default="K_EULER"),
        image: Path = Input(description="Input image"),
        api_key: Secret = Input(description="API key"),
        seed: Optional[int] = Input(default=None),
        tags: list[str] = Input(default=[]),
        legacy: bool = Input(default=False, deprecated=True),
        slug: str = Input(default="abc", regex="^[a-z]+$"),
    ) -> list[Path]:
        return []
