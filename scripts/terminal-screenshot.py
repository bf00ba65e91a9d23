#!/usr/bin/env python3
"""Renders a terminal capture (`tmux capture-pane -e -p`, ANSI colours kept) to a PNG with headless Chromium.

Used for docs/images/box-screen.png: the box's screen exactly as `numbind agent run` drew it. Block characters of
the QR code (half blocks, full blocks) are drawn as cells filled edge to edge, so the picture scans like the
terminal does. Usage: terminal-screenshot.py CAPTURE.txt OUTPUT.png [--width PIXELS]
"""

import argparse
import html
import os
import re
import subprocess
import sys
import tempfile

BACKGROUND = "#111418"
FOREGROUND = "#e6e6e6"
# The 16 ANSI colours (normal 30-37/40-47, bright 90-97/100-107).
PALETTE = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
]
CELL_WIDTH_PX = 10
LINE_HEIGHT_PX = 20
FONT_SIZE_PX = 16
MARGIN_PX = 20
# The agent's terminal QR code has a quiet zone of 2 modules (device-agent/src/display/qr.rs).
QR_QUIET_ZONE_COLUMNS = 2
# Fraction of the cell, from the top, painted in the foreground colour: upper half, lower half, full.
BLOCKS = {"\u2580": "top", "\u2584": "bottom", "\u2588": "full"}
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def apply_sgr(parameters, style):
    """Returns the (foreground, background) after one SGR sequence."""
    foreground, background = style
    codes = [int(code) for code in parameters.split(";") if code] or [0]
    for code in codes:
        if code == 0:
            foreground, background = None, None
        elif 30 <= code <= 37:
            foreground = PALETTE[code - 30]
        elif 90 <= code <= 97:
            foreground = PALETTE[code - 90 + 8]
        elif code == 39:
            foreground = None
        elif 40 <= code <= 47:
            background = PALETTE[code - 40]
        elif 100 <= code <= 107:
            background = PALETTE[code - 100 + 8]
        elif code == 49:
            background = None
    return foreground, background


def cell_html(character, style):
    foreground = style[0] or FOREGROUND
    background = style[1] or BACKGROUND
    shape = BLOCKS.get(character)
    if shape == "full":
        fill = foreground
    elif shape == "top":
        fill = f"linear-gradient({foreground} 50%, {background} 50%)"
    elif shape == "bottom":
        fill = f"linear-gradient({background} 50%, {foreground} 50%)"
    else:
        return f'<span style="color:{foreground};background:{background}">{html.escape(character)}</span>'
    return f'<span class="block" style="background:{fill}"></span>'


def line_html(line, style):
    """The cells of one line, and the style it ends with: tmux carries a colour over to the next lines."""
    cells = []
    position = 0
    for match in SGR.finditer(line):
        cells.extend(cell_html(character, style) for character in line[position:match.start()])
        style = apply_sgr(match.group(1), style)
        position = match.end()
    cells.extend(cell_html(character, style) for character in line[position:])
    return "".join(cells), style


def widest_coloured(lines):
    """The width of the widest line drawn on a coloured background (the QR code's rows)."""
    style, widest = (None, None), 0
    for line in lines:
        _, style = line_html(line, style)
        if style[1] is not None:
            widest = max(widest, len(SGR.sub("", line)))
    return widest


def page(lines, width):
    # tmux drops trailing blanks even when they are coloured: lines on a coloured background (the QR code's rows)
    # are padded to the widest of them plus the QR code's right quiet zone, whose finder patterns reach the last
    # module column.
    style, rows = (None, None), []
    for line in lines:
        cells, style = line_html(line, style)
        if style[1] is not None:
            padding = widest_coloured(lines) + QR_QUIET_ZONE_COLUMNS - len(SGR.sub("", line))
            cells += "".join(cell_html(" ", style) for _ in range(max(padding, 0)))
        rows.append(f'<div class="line">{cells}</div>')
    body = "\n".join(rows)
    return f"""<!doctype html><meta charset="utf-8"><style>
body {{ margin: 0; padding: {MARGIN_PX}px; background: {BACKGROUND}; width: {width - 2 * MARGIN_PX}px; }}
.line {{ font: {FONT_SIZE_PX}px/{LINE_HEIGHT_PX}px "DejaVu Sans Mono", monospace; height: {LINE_HEIGHT_PX}px;
         white-space: pre; color: {FOREGROUND}; }}
.line span {{ display: inline-block; min-width: {CELL_WIDTH_PX}px; height: {LINE_HEIGHT_PX}px; }}
.block {{ width: {CELL_WIDTH_PX}px; vertical-align: top; }}
</style>{body}"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("capture")
    parser.add_argument("output")
    parser.add_argument("--width", type=int, default=700)
    arguments = parser.parse_args()
    with open(arguments.capture, encoding="utf-8") as capture:
        lines = capture.read().rstrip("\n").split("\n")
    while lines and not SGR.sub("", lines[-1]).strip():
        lines.pop()
    height = len(lines) * LINE_HEIGHT_PX + 2 * MARGIN_PX
    with tempfile.TemporaryDirectory() as directory:
        page_path = os.path.join(directory, "screen.html")
        with open(page_path, "w", encoding="utf-8") as page_file:
            page_file.write(page(lines, arguments.width))
        command = [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={directory}/profile", f"--window-size={arguments.width},{height}",
            f"--screenshot={os.path.abspath(arguments.output)}", f"file://{page_path}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0 or not os.path.exists(arguments.output):
            sys.exit(f"terminal-screenshot: chromium failed: {result.stderr.strip()[-500:]}")
    print(f"{arguments.output}: {arguments.width}x{height}")


if __name__ == "__main__":
    main()
