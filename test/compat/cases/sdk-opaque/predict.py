from typing import Annotated, Any, Optional

from cog import BasePredictor, Input, Opaque


class Predictor(BasePredictor):
    def predict(self, config: Annotated[dict, Opaque] = Input(description="Any JSON object"),
                extra: Annotated[Optional[dict], Opaque] = Input(default=None)) -> Annotated[Any, Opaque]:
        return {"keys": sorted(config), "extra": extra}
