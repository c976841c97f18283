"""Writes a 640x480 JPEG with one face for the load test: the development photo of a face
(given as the first argument) scaled to 300 px and pasted in the middle of a textured
background, as a webcam frame would frame it. Usage: make_photo.py FACE.png OUT.jpg"""

import random
import sys

from PIL import Image

WIDTH, HEIGHT, FACE = 640, 480, 300


def main() -> None:
    face_path, out_path = sys.argv[1], sys.argv[2]
    rng = random.Random(7)
    canvas = Image.new("RGB", (WIDTH, HEIGHT))
    canvas.putdata(
        [
            (
                x * 120 // WIDTH + n + 60,
                y * 120 // HEIGHT + n + 60,
                100 + n,
            )
            for y in range(HEIGHT)
            for x in range(WIDTH)
            for n in (rng.randrange(24),)
        ]
    )
    face = Image.open(face_path).convert("RGB").resize((FACE, FACE), Image.BILINEAR)
    canvas.paste(face, ((WIDTH - FACE) // 2, (HEIGHT - FACE) // 2))
    canvas.save(out_path, "JPEG", quality=85)


if __name__ == "__main__":
    main()
