"""A Cog predictor that filters a PPM image and streams every intermediate pass as a file.

Runs unchanged under Cog and under kiln: `kiln predict -i image=@sample.ppm -i filter=blur -i passes=3`.
"""

import tempfile
import time
from typing import Iterator, Literal

from cog import BasePredictor, Input, Path, current_scope

from filters import FILTERS
from ppm import read_ppm, write_ppm


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Nothing heavy to load: a real model would read its weights here, once."""
        self.filters = FILTERS
        print(f"filters available: {', '.join(sorted(self.filters))}")

    def predict(
        self,
        image: Path = Input(description="A PPM image (P3 or P6, 8-bit)"),
        filter: Literal["grayscale", "invert", "sepia", "blur"] = Input(
            description="Which filter to apply", default="blur"
        ),
        passes: int = Input(description="How many times to apply it (each pass is streamed)", ge=1, le=10, default=2),
    ) -> Iterator[Path]:
        started = time.monotonic()
        width, height, pixels = read_ppm(image.read_bytes())
        print(f"read {width}x{height} image")
        current_scope().record_metric("pixels", width * height)
        outdir = Path(tempfile.mkdtemp(prefix="ppm-filter-"))
        apply = self.filters[filter]
        for n in range(1, passes + 1):
            pixels = apply(width, height, pixels)
            out = outdir / f"{filter}-{n}.ppm"
            write_ppm(str(out), width, height, pixels)
            print(f"pass {n}/{passes} done")
            yield out
        current_scope().record_metric("filter_seconds", round(time.monotonic() - started, 3))
