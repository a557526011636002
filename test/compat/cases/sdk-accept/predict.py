from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(self, image: Path = Input(description="An image", accept="image/*"),
                audio: Path = Input(default=None, accept="audio/wav,audio/mpeg")) -> int:
        return image.stat().st_size
