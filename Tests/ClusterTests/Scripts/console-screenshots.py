#!/usr/bin/env python3
"""Screenshots of every console page for docs/console/, from a running cluster (`corral demo --keep`).

usage: console-screenshots.py BASE_URL ADMIN_TOKEN JOB_ID OUT_DIR [CAPACITY_QUERY]

Signs in as the admin, opens each page at 1280x800 (the whole page, up to 1600 px tall) and the
overview and jobs pages at 390x844 as well, waits for the live regions, and writes PNGs to OUT_DIR.
"""
import sys
import time

import console as c


def main():
    base, token, job, out = sys.argv[1:5]
    capacity = "/ui/capacity" + ("?" + sys.argv[5] if len(sys.argv) > 5 else "")
    driver = c.browser(1280, 800)
    try:
        c.sign_in(driver, base, token)
        pages = [("overview", "/ui/"), ("nodes", "/ui/nodes"), ("jobs", "/ui/jobs"), ("job", "/ui/jobs/" + job),
                 ("tenants", "/ui/tenants"), ("capacity", capacity)]
        for width, height, names in [(1280, 800, None), (390, 844, {"overview", "jobs", "job"})]:
            for name, path in pages:
                if names and name not in names:
                    continue
                c.resize(driver, width, height)
                driver.get(base + path)
                time.sleep(3)
                full = min(driver.execute_script("return document.documentElement.scrollHeight"), 1600)
                c.resize(driver, width, full if width > 400 else height)
                time.sleep(1)
                driver.save_screenshot(f"{out}/{name}-{width}.png")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
