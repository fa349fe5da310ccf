"""Full-page screenshots of the running portal, in English and Spanish, on a phone and a desktop.

Start the demo first (``make demo``, or migrate + seed_demo + runserver), then::

    .venv/bin/python scripts/screenshots.py [--base-url http://127.0.0.1:8000] [--out docs/screenshots]

Writes ``<page>-<lang>-<narrow|wide>.png``. Uses Debian's Chromium at /usr/bin/chromium; it
never downloads a browser. The PNGs are committed, so they are reduced to a 256-colour palette.
"""

import argparse
import io
import sys
import urllib.error
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LANGUAGES = ["en", "es"]
PAGES = {
    "home": "/{lang}/",
    "fund-index": "/{lang}/funds/",
    "foundation": "/{lang}/bay-area-defense/",
    "fund": "/{lang}/bay-area-defense/deportation-defense/",
    "call": "/{lang}/bay-area-defense/deportation-defense/rapid-legal-2026/",
}
VIEWPORTS = {
    "narrow": {"width": 390, "height": 844},
    "wide": {"width": 1280, "height": 900},
}


def shrink(png: bytes) -> bytes:
    """A palette PNG: a tenth of the size, and text stays sharp."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def check_server(base_url: str) -> None:
    try:
        with urllib.request.urlopen(f"{base_url}/en/", timeout=10) as response:
            response.read(1)
    except (urllib.error.URLError, OSError) as error:
        sys.exit(f"No portal answers at {base_url}/en/ ({error}). Start it with `make demo` first.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    base_url = args.base_url.rstrip("/")
    check_server(base_url)
    args.out.mkdir(parents=True, exist_ok=True)

    failures = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(headless=True, executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for viewport_name, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport, device_scale_factor=1, reduced_motion="reduce")
            page = context.new_page()
            for lang in LANGUAGES:
                for page_name, path in PAGES.items():
                    url = base_url + path.format(lang=lang)
                    response = page.goto(url, wait_until="networkidle")
                    if response is None or not response.ok:
                        status = response.status if response else "no response"
                        failures.append(f"{url}: {status}")
                        continue
                    target = args.out / f"{page_name}-{lang}-{viewport_name}.png"
                    target.write_bytes(shrink(page.screenshot(full_page=True)))
                    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}  ← {url}")
            context.close()
        browser.close()
    for failure in failures:
        print(f"not captured: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
