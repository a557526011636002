"""Reading and writing PPM images (P3 text and P6 binary, 8-bit), so the model needs no imaging library."""

from typing import List, Tuple

Pixels = List[Tuple[int, int, int]]


class PPMError(ValueError):
    pass


def _tokens(data: bytes, count: int, start: int) -> Tuple[List[bytes], int]:
    """Reads `count` whitespace-separated header tokens, skipping # comments; returns them and the offset."""
    tokens: List[bytes] = []
    i = start
    while len(tokens) < count:
        while i < len(data) and data[i : i + 1].isspace():
            i += 1
        if i < len(data) and data[i : i + 1] == b"#":
            while i < len(data) and data[i : i + 1] not in (b"\n", b"\r"):
                i += 1
            continue
        j = i
        while j < len(data) and not data[j : j + 1].isspace():
            j += 1
        if j == i:
            raise PPMError("the PPM header is truncated")
        tokens.append(data[i:j])
        i = j
    return tokens, i


def read_ppm(data: bytes) -> Tuple[int, int, Pixels]:
    magic = data[:2]
    if magic not in (b"P3", b"P6"):
        raise PPMError("not a PPM image: expected the P3 or P6 magic number (use e.g. `convert in.png out.ppm`)")
    (w, h, maxval), offset = _tokens(data, 3, 2)
    try:
        width, height, maxval_int = int(w), int(h), int(maxval)
    except ValueError as err:
        raise PPMError(f"bad PPM header: {err}") from None
    if width <= 0 or height <= 0 or width * height > 4096 * 4096:
        raise PPMError(f"unsupported image size {width}x{height}")
    if not 0 < maxval_int <= 255:
        raise PPMError(f"only 8-bit PPM images are supported (maxval {maxval_int})")
    scale = 255 / maxval_int
    if magic == b"P6":
        raw = data[offset + 1 : offset + 1 + width * height * 3]
        if len(raw) < width * height * 3:
            raise PPMError("the PPM pixel data is truncated")
        values = list(raw)
    else:
        values = [int(v) for v in data[offset:].split()[: width * height * 3]]
        if len(values) < width * height * 3:
            raise PPMError("the PPM pixel data is truncated")
    if maxval_int != 255:
        values = [round(v * scale) for v in values]
    pixels = [(values[k], values[k + 1], values[k + 2]) for k in range(0, len(values), 3)]
    return width, height, pixels


def write_ppm(path: str, width: int, height: int, pixels: Pixels) -> None:
    with open(path, "wb") as out:
        out.write(f"P6\n{width} {height}\n255\n".encode("ascii"))
        out.write(bytes(channel for pixel in pixels for channel in pixel))
