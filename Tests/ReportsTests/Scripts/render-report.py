#!/usr/bin/env python3
"""Render a Corral HTML report in headless chromium and check what it drew.

usage: render-report.py REPORT.html --png OUT.png [--width 1240] [--max-height PX]

Prints one JSON object: the page's console messages, and for every `svg.chart` its title and how
many of its pixels carry the colours of the history line, the reserved line, the forecast line and
the forecast bands (so a test can tell a drawn chart from an empty frame). Needs Debian's chromium
and chromium-driver, and `python3 -m pip install selenium pillow`.
"""
import argparse
import io
import json
import pathlib
import sys

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# The colours Sources/Reports draws with (SVGChart users in CapacityReport+HTML.swift).
COLOURS = {
    "used": (0x1F, 0x77, 0xB4),
    "held": (0x2C, 0xA0, 0x2C),
    "reserved": (0x7F, 0x7F, 0x7F),
    "forecast": (0xD3, 0x54, 0x00),
    "band80": (0xFB, 0xBF, 0x8A),
    "band95": (0xFD, 0xE0, 0xC5),
}


def near(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--png", required=True)
    parser.add_argument("--width", type=int, default=1240)
    parser.add_argument("--max-height", type=int, default=0, help="crop the saved PNG to this height")
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={args.width},900"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(pathlib.Path(args.report).resolve().as_uri())
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(args.width, height + 120)
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(args.width + (args.width - inner[0]), height + (height + 120 - inner[1]))
        console = driver.get_log("browser")
        shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
        scale = shot.width / driver.execute_script("return window.innerWidth")
        charts = []
        for element in driver.find_elements("css selector", "svg.chart"):
            rect = element.rect
            box = tuple(int(v * scale) for v in (rect["x"], rect["y"], rect["x"] + rect["width"], rect["y"] + rect["height"]))
            region = shot.crop(box)
            pixels = list(getattr(region, "get_flattened_data", region.getdata)())
            counts = {name: sum(1 for p in pixels if near(p, colour, 24 if name.startswith("band") else 40)) for name, colour in COLOURS.items()}
            charts.append({"title": element.get_attribute("aria-label"), "box": box, "pixels": len(pixels), "colours": counts})
        saved = shot if args.max_height <= 0 else shot.crop((0, 0, shot.width, min(shot.height, int(args.max_height * scale))))
        saved.save(args.png, optimize=True)
        print(json.dumps({"console": console, "charts": charts, "png": args.png, "height": height}))
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
