import tempfile
from typing import List, Optional

from pydantic import BaseModel, Field

from cog import BasePredictor, File, Input, Path


class Result(BaseModel):
    text: str
    score: float = 0.5
    tags: List[str] = Field(default_factory=list)
    image: Path
    notes: Optional[File] = None


class Predictor(BasePredictor):
    def predict(self, text: str = Input(description="Text")) -> Result:
        out = Path(tempfile.mkdtemp()) / "echo.txt"
        out.write_text(text)
        result = Result(text=text.upper(), image=str(out))
        assert isinstance(result.image, Path), type(result.image)
        return result
