import asyncio

from cog import BasePredictor, concurrent


@concurrent(max=3)
class Predictor(BasePredictor):
    def setup(self) -> None:
        self.running = 0
        self.peak = 0

    async def predict(self, ms: int = 300) -> int:
        self.running += 1
        self.peak = max(self.peak, self.running)
        await asyncio.sleep(ms / 1000)
        self.running -= 1
        return self.peak
