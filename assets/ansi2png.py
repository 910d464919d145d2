#!/usr/bin/env python3
"""Render a terminal capture with ANSI colours (`tmux capture-pane -e -p`)
to a PNG, for the README screenshot. Needs Pillow (`pip install pillow`)
and DejaVu Sans Mono (fonts-dejavu-core).

    tmux capture-pane -e -p -t dash | python3 assets/ansi2png.py assets/dashboard.png

How assets/dashboard.png was made (a 132x44 terminal, Redis 7.0.15, the
binary of `cargo install --locked --path .`; the lab's w1 is selected when
it starts, and keys are sent a few tenths of a second apart):

    redis-server --port 6390 --save "" --appendonly no &   # any free port
    tmux -L shot new-session -d -s dash -x 132 -y 44 \
        'streamlab --url redis://127.0.0.1:6390'
    k() { tmux -L shot send-keys -t dash "$1"; sleep 0.4; }
    k r; sleep 10                       # production on, 20/s
    k f; sleep 1; k P; sleep 1.5; k x   # w1 slow, a burst, w1 killed with its batch
    k j; k j; k f; k f                  # w3 failing
    streamlab worker --url redis://127.0.0.1:6390 --work-ms 50 \
        --read-count 10 --name laptop-2 >/dev/null &   # an external consumer
    sleep 16; k P; sleep 2.5            # a second burst: the lag's trend moves
    tmux -L shot capture-pane -e -p -t dash | python3 assets/ansi2png.py assets/dashboard.png
"""

import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
BG = (24, 26, 33)
FG = (208, 212, 220)
# The 16 ANSI colours (a One Dark-like palette).
BASE = [
    (40, 44, 52), (224, 108, 117), (152, 195, 121), (229, 192, 123),
    (97, 175, 239), (198, 120, 221), (86, 182, 194), (171, 178, 191),
    (92, 99, 112), (240, 130, 140), (170, 215, 140), (240, 205, 140),
    (120, 190, 250), (215, 140, 235), (110, 200, 210), (230, 232, 236),
]


def xterm256(n):
    if n < 16:
        return BASE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


class Pen:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg, self.bg, self.bold, self.dim, self.reverse = None, None, False, False, False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 7:
                self.reverse = True
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = BASE[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    colour, i = xterm256(codes[i + 2]), i + 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour, i = tuple(codes[i + 2:i + 5]), i + 4
                else:
                    colour = None
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1

    def colours(self):
        fg, bg = self.fg or FG, self.bg or BG
        if self.dim:
            fg = tuple((a + b) // 2 for a, b in zip(fg, BG))
        return (bg, fg) if self.reverse else (fg, bg)


def cells(text):
    """Yield rows of (char, fg, bg, bold)."""
    pen = Pen()
    for line in text.rstrip("\n").split("\n"):
        row = []
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            if part.startswith("\x1b["):
                pen.apply(part[2:-1])
                continue
            for ch in part:
                fg, bg = pen.colours()
                row.append((ch, fg, bg, pen.bold))
        yield row


def main():
    out = sys.argv[1]
    rows = list(cells(sys.stdin.read()))
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    ascent, descent = regular.getmetrics()
    cw, ch = round(regular.getlength("M")), ascent + descent
    cols = max(len(r) for r in rows)
    pad = 12
    img = Image.new("RGB", (cols * cw + 2 * pad, len(rows) * ch + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(rows):
        for x, (char, fg, bg, is_bold) in enumerate(row):
            left, top = pad + x * cw, pad + y * ch
            if bg != BG:
                draw.rectangle([left, top, left + cw - 1, top + ch - 1], fill=bg)
            if char != " ":
                draw.text((left, top), char, font=bold if is_bold else regular, fill=fg)
    img.save(out)


if __name__ == "__main__":
    main()
