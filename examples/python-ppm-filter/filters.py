"""The "model": classic image filters over a list of (r, g, b) pixels, one pass at a time."""

from typing import Callable, Dict, List, Tuple

Pixels = List[Tuple[int, int, int]]


def _clamp(value: float) -> int:
    return 0 if value < 0 else 255 if value > 255 else int(value + 0.5)


def grayscale(width: int, height: int, pixels: Pixels) -> Pixels:
    out = []
    for r, g, b in pixels:
        y = _clamp(0.299 * r + 0.587 * g + 0.114 * b)
        out.append((y, y, y))
    return out


def invert(width: int, height: int, pixels: Pixels) -> Pixels:
    return [(255 - r, 255 - g, 255 - b) for r, g, b in pixels]


def sepia(width: int, height: int, pixels: Pixels) -> Pixels:
    return [
        (_clamp(0.393 * r + 0.769 * g + 0.189 * b), _clamp(0.349 * r + 0.686 * g + 0.168 * b),
         _clamp(0.272 * r + 0.534 * g + 0.131 * b))
        for r, g, b in pixels
    ]


def blur(width: int, height: int, pixels: Pixels) -> Pixels:
    """3x3 box blur; edges use the pixels that exist."""
    out = []
    for y in range(height):
        for x in range(width):
            rs = gs = bs = n = 0
            for dy in (-1, 0, 1):
                yy = y + dy
                if 0 <= yy < height:
                    row = yy * width
                    for dx in (-1, 0, 1):
                        xx = x + dx
                        if 0 <= xx < width:
                            r, g, b = pixels[row + xx]
                            rs += r
                            gs += g
                            bs += b
                            n += 1
            out.append((rs // n, gs // n, bs // n))
    return out


FILTERS: Dict[str, Callable[[int, int, Pixels], Pixels]] = {
    "grayscale": grayscale,
    "invert": invert,
    "sepia": sepia,
    "blur": blur,
}
