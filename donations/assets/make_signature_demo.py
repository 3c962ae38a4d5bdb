"""Draw the demo facsimile signature, ``signature-demo.png``, with Pillow.

Run once from the project root: ``.venv/bin/python donations/assets/make_signature_demo.py``.
The result is committed; the receipt renderer only reads the PNG.
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw

SCALE = 4  # draw large then downsample, which anti-aliases the strokes
WIDTH, HEIGHT = 360, 110
INK = (22, 38, 92, 255)


def bezier(p0, p1, p2, p3, steps=60):
    """Return the points of a cubic Bézier curve."""
    points = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        x = u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0]
        y = u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1]
        points.append((x, y))
    return points


def loops(x0, y0, count, step, radius, height):
    """Return a run of cursive loops (a prolate cycloid), like joined handwriting."""
    points = []
    for i in range(count * 40 + 1):
        t = i / 40 * 2 * math.pi
        # The slant makes the loops lean right, as handwriting does.
        # Uneven loop heights look written rather than plotted.
        y = y0 - height * (1 + 0.3 * math.sin(t / 3.1)) * (1 - math.cos(t)) / 2
        x = x0 + step * t / (2 * math.pi) - radius * math.sin(t) + (y0 - y) * 0.35
        points.append((x, y))
    return points


def main():
    """Draw the strokes and save the PNG next to this file."""
    image = Image.new("RGBA", (WIDTH * SCALE, HEIGHT * SCALE), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    strokes = [
        # A tall capital with an entry hook.
        bezier((20, 82), (30, 10), (48, 8), (52, 70))
        + bezier((52, 70), (58, 20), (78, 14), (84, 74)),
        # The joined small letters.
        bezier((84, 74), (90, 60), (98, 58), (104, 66)) + loops(104, 70, 5, 30, 14, 34),
        # A closing flourish swept back under the name.
        bezier((254, 66), (300, 40), (330, 60), (300, 92))
        + bezier((300, 92), (240, 104), (90, 98), (30, 88)),
    ]
    for points in strokes:
        scaled = [(x * SCALE, y * SCALE) for x, y in points]
        draw.line(scaled, fill=INK, width=int(2.2 * SCALE), joint="curve")
    image = image.resize((WIDTH, HEIGHT), Image.LANCZOS)
    # A small palette keeps the file to a few KB; the edges only need a few alpha steps.
    image = image.quantize(colors=16, method=Image.Quantize.FASTOCTREE)
    image.save(Path(__file__).with_name("signature-demo.png"), optimize=True)


if __name__ == "__main__":
    main()
