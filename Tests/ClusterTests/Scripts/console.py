#!/usr/bin/env python3
"""Drive Corral's web console in Debian's headless chromium and check what a user sees.

usage: console.py CONFIG.json

CONFIG names the scheduler (`base`, `ca`), the tokens (`admin`, `tenant`, `tenantName`), the other
tenant's job and allocation (`otherJob`, `otherAllocation`, `otherTenant`), the nodes, and `artifacts`,
the directory the screenshots go to. The script submits its own jobs through the API, drives the pages,
and prints one JSON object: a list of checks (name, ok, detail), the screenshots it kept with the regions
found in each, every request the browser made, and the browser's console messages. It stops at the first
failed precondition (no browser, cannot sign in) with a check saying so. Needs chromium,
chromium-driver, and `python3 -m pip install selenium pillow`.
"""
import io
import json
import ssl
import sys
import traceback
import time
import urllib.request

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHECKS = []
SHOTS = []
REQUESTS = []
CONSOLE = []

# The capacity report's colours (Sources/Reports): the console's charts draw with the same.
COLOURS = {"used": (0x1F, 0x77, 0xB4), "band80": (0xFB, 0xBF, 0x8A), "band95": (0xFD, 0xE0, 0xC5),
           "forecast": (0xD3, 0x54, 0x00)}


def check(name, ok, detail=""):
    CHECKS.append({"name": name, "ok": bool(ok), "detail": str(detail)[:2000]})
    return ok


class API:
    def __init__(self, base, ca):
        self.base = base
        self.context = ssl.create_default_context(cafile=ca) if ca else None

    def call(self, method, path, token, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=20) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def wait(predicate, timeout, interval=0.25):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # the page may be between two region swaps
            last = error
        time.sleep(interval)
    return None


def browser(width, height):
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--ignore-certificate-errors", f"--window-size={width},{height}"]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    options.accept_insecure_certs = True
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    resize(driver, width, height)
    return driver


def resize(driver, width, height):
    """Makes the page's viewport exactly width x height CSS pixels."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(width + (width - inner[0]), height + (height - inner[1]))


def collect_logs(driver):
    for entry in driver.get_log("browser"):
        CONSOLE.append(entry)
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            REQUESTS.append(message["params"]["request"]["url"])


def sign_in(driver, base, token):
    driver.get(base + "/ui/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#signin button[type=submit]").click()
    return wait(lambda: driver.current_url.rstrip("/").endswith("/ui"), 10)


def mark(driver):
    """Marks the document: the mark is gone if the page is reloaded."""
    driver.execute_script("window.corralMark = 'kept'")


def still_marked(driver):
    return driver.execute_script("return window.corralMark") == "kept"


def click(driver, selector, timeout=10):
    """Clicks the element the selector finds, finding it again if a region swap replaced it."""
    def attempt():
        driver.find_element(By.CSS_SELECTOR, selector).click()
        return True
    return wait(attempt, timeout)


def text(driver, selector):
    elements = driver.find_elements(By.CSS_SELECTOR, selector)
    return " ".join(e.text for e in elements)


def fetch_status(driver, url, method="GET", headers=None):
    """Status and the first 2.5 s of a response's body, fetched by the page itself (its cookie)."""
    return driver.execute_async_script("""
        const [url, method, headers, done] = arguments;
        (async () => {
          try {
            const controller = new AbortController();
            const response = await fetch(url, {method, headers: headers || {}, credentials: "same-origin",
                                               signal: controller.signal});
            const reader = response.body.getReader();
            const decoder = new TextDecoder();
            let body = "";
            const stop = Date.now() + 2500;
            while (Date.now() < stop) {
              const next = await Promise.race([reader.read(), new Promise(r => setTimeout(() => r(null), 300))]);
              if (next === null) continue;
              if (next.done) break;
              body += decoder.decode(next.value);
            }
            controller.abort();
            done({status: response.status, body});
          } catch (error) { done({status: -1, body: String(error)}); }
        })();
    """, url, method, headers)


def screenshot(driver, name, artifacts, regions, width, height):
    """Saves the viewport at width x height and checks each region is there, visible, and inside the width."""
    resize(driver, width, height)
    time.sleep(0.5)
    png = driver.get_screenshot_as_png()
    path = f"{artifacts}/{name}-{width}x{height}.png"
    with open(path, "wb") as out:
        out.write(png)
    found = {}
    for selector in regions:
        rects = driver.execute_script("""
            return [...document.querySelectorAll(arguments[0])].map(e => {
              const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });
        """, selector)
        found[selector] = rects
        check(f"{name} at {width}x{height}: {selector} is drawn",
              rects and all(r[2] > 0 and r[3] > 0 and r[0] >= -1 and r[0] + r[2] <= width + 1 for r in rects[:3]),
              rects[:3])
    overflow = driver.execute_script("return document.documentElement.scrollWidth")
    check(f"{name} at {width}x{height}: no sideways scrolling", overflow <= width, f"scrollWidth {overflow}")
    SHOTS.append({"name": name, "png": path, "size": [width, height], "regions": found,
                  "image": list(Image.open(io.BytesIO(png)).size)})
    return png


def chart_colours(driver):
    """Pixels of each colour inside every chart of the page, from a screenshot of the whole page."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    resize(driver, width, min(height + 20, 4000))
    shot = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
    scale = shot.width / driver.execute_script("return window.innerWidth")
    charts = []
    # One read of every chart's box, right after the screenshot (a region swap replaces the elements).
    boxes = driver.execute_script("""
        return [...document.querySelectorAll("svg.chart")].map(e => {
          const r = e.getBoundingClientRect();
          return [e.getAttribute("aria-label"), r.left + scrollX, r.top + scrollY, r.width, r.height]; });
    """)
    for title, x, y, w, h in boxes:
        box = tuple(int(v * scale) for v in (x, y, x + w, y + h))
        pixels = list(getattr(shot.crop(box), "get_flattened_data", shot.crop(box).getdata)())
        counts = {name: sum(1 for p in pixels if all(abs(a - b) <= (24 if name.startswith("band") else 40)
                                                     for a, b in zip(p, colour)))
                  for name, colour in COLOURS.items()}
        charts.append({"title": title, "colours": counts})
    return charts


def tenant_part(config, api):
    base, artifacts = config["base"], config["artifacts"]
    driver = browser(1280, 800)
    try:
        if not check("tenant signs in with its token", sign_in(driver, base, config["tenant"]), driver.current_url):
            return
        header = text(driver, "header#top")
        check("the tenant's header names it and offers no admin pages",
              f"tenant {config['tenantName']}" in header and "Nodes" not in header and "Capacity" not in header, header)
        cookie = driver.get_cookie("corral_session") or {}
        check("the session cookie is HttpOnly, SameSite=Strict, and Secure over TLS",
              cookie.get("httpOnly") and cookie.get("sameSite") == "Strict"
              and cookie.get("secure") == base.startswith("https"), cookie)

        # A job submitted now appears on the open jobs page and reaches completed, without a reload.
        driver.get(base + "/ui/jobs")
        wait(lambda: "live" in driver.find_element(By.ID, "live").get_attribute("class"), 10)
        mark(driver)
        status, job = api.call("POST", "/v1/jobs", config["tenant"], {
            "name": "console-batch", "tenant": config["tenantName"], "resources": {"cpu": 0.1, "memory": "16Mi"},
            "command": ["sh", "-c", "sleep 2; echo batch done"]})
        check("the test's job is accepted", status == 201, job)
        job_id = job["id"]
        row = f"tr[data-job='{job_id}']"
        check("the new job appears on the jobs page without a reload",
              wait(lambda: driver.find_elements(By.CSS_SELECTOR, row), 15) and still_marked(driver))
        completed = wait(lambda: "completed" in text(driver, row + " .badge"), 60)
        check("the job reaches completed on the page without a reload", completed and still_marked(driver),
              text(driver, row))

        # A running task's log line appears live on its job page.
        status, live = api.call("POST", "/v1/jobs", config["tenant"], {
            "name": "console-log", "tenant": config["tenantName"], "resources": {"cpu": 0.1, "memory": "16Mi"},
            "command": ["sh", "-c", "echo first line; sleep 3; echo live line from the task; sleep 6; echo last"]})
        check("the log job is accepted", status == 201, live)
        driver.get(base + "/ui/jobs/" + live["id"])
        mark(driver)
        first = wait(lambda: "first line" in driver.find_element(By.ID, "log").text, 30)
        check("the log panel follows the running task", first, driver.find_element(By.ID, "log").text)
        seen = wait(lambda: "live line from the task" in driver.find_element(By.ID, "log").text, 20)
        running = driver.find_elements(By.CSS_SELECTOR, "tr[data-task='0'][data-state='running']")
        check("a line the task writes while running appears live", seen and running and still_marked(driver),
              driver.find_element(By.ID, "log").text)

        # The other tenant's job is nowhere: not in the pages, not on any endpoint the pages use.
        other, other_tenant, allocation = config["otherJob"], config["otherTenant"], config["otherAllocation"]
        for path in ["/ui/", "/ui/jobs", "/ui/tenants"]:
            driver.get(base + path)
            time.sleep(1.5)
            source = driver.page_source
            check(f"{path} shows nothing of tenant {other_tenant}",
                  other not in source and f">{other_tenant}<" not in source)
        endpoints = [
            ("/ui/stream?page=overview", 200), ("/ui/stream?page=jobs", 200), ("/ui/stream?page=tenants", 200),
            (f"/ui/stream?page=job&job={other}", 403), (f"/ui/stream?page=jobs&tenant={other_tenant}", 403),
            ("/ui/stream?page=nodes", 403), (f"/ui/jobs/{other}", 403), ("/ui/nodes", 403), ("/ui/capacity", 403),
            (f"/ui/logs/{allocation}/stdout", 403), (f"/v1/jobs/{other}", 403), (f"/v1/jobs/{other}/tasks", 403),
            (f"/v1/allocations/{allocation}/logs/stdout", 403), ("/v1/jobs", 200), ("/v1/nodes", 403),
            ("/v1/alerts", 403), (f"/v1/tenants/{other_tenant}/quota", 403), ("/v1/reports/capacity", 403),
        ]
        collect_logs(driver)
        # What the other tenant's job holds; a refusal may repeat what the caller asked for (the id, the
        # tenant's name in the path), never more.
        secrets = [config["otherJobName"], config["otherOutput"]]
        for url, expected in endpoints:
            answer = fetch_status(driver, url)
            leaked = [s for s in secrets if s in answer["body"]]
            if expected == 200:
                leaked += [s for s in [other, f'"{other_tenant}"', f"tenant {other_tenant}"] if s in answer["body"]]
            else:
                leaked += [] if '"error"' in answer["body"] else ["not an error body"]
            check(f"tenant: {url} answers {expected} and carries nothing of tenant {other_tenant}",
                  answer["status"] == expected and not leaked, {"answer": answer, "leaked": leaked})
        # An action without the page's CSRF token is refused, even with the session cookie.
        answer = fetch_status(driver, f"/v1/jobs/{job_id}", "DELETE")
        check("a cookie without the CSRF token cannot act", answer["status"] == 403 and "csrf" in answer["body"],
              answer)
        # The refusals just provoked are logged by the browser as failed loads: those are expected.
        probed = [url for url, expected in endpoints if expected != 200] + [f"/v1/jobs/{job_id}"]
        for entry in driver.get_log("browser"):
            if not any(url in entry.get("message", "") and "Failed to load resource" in entry["message"]
                       for url in probed):
                CONSOLE.append(entry)
        collect_logs(driver)
    finally:
        driver.quit()


def admin_part(config, api):
    base, artifacts = config["base"], config["artifacts"]
    driver = browser(1280, 800)
    try:
        if not check("admin signs in with its token", sign_in(driver, base, config["admin"]), driver.current_url):
            return
        header = text(driver, "header#top")
        check("the admin's header offers every page", all(p in header for p in ["Nodes", "Jobs", "Tenants", "Capacity"]),
              header)
        # Overview: node cards whose charts carry history, and (once models are fitted) forecast bands.
        drawn = wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".node-card svg.chart")) >= 3 * len(config["nodes"]), 30)
        check("the overview draws three charts per node", drawn,
              len(driver.find_elements(By.CSS_SELECTOR, ".node-card svg.chart")))
        banded = wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".node-card svg.chart polygon")) >= 2, 120, 1)
        check("the overview's charts carry the forecast's 80/95% bands", banded)
        driver.get(base + "/ui/")
        wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".node-card svg.chart polygon"), 10)
        charts = chart_colours(driver)
        with_bands = [c for c in charts if c["colours"]["band80"] > 30 and c["colours"]["band95"] > 30
                      and c["colours"]["used"] > 30]
        check("the charts draw history, forecast and both bands in the browser", with_bands, charts)
        resize(driver, 1280, 800)

        # Drain from the nodes page: new work goes to another node.
        driver.get(base + "/ui/nodes")
        drained = config["nodes"][0]
        mark(driver)
        click(driver, f"tr[data-node='{drained}'] button.act")
        driver.switch_to.alert.accept()
        check("the drain shows on the nodes page without a reload",
              wait(lambda: "draining" in text(driver, f"tr[data-node='{drained}']"), 10) and still_marked(driver),
              text(driver, f"tr[data-node='{drained}']"))
        placed = []
        for i in range(4):
            status, job = api.call("POST", "/v1/jobs", config["tenant"], {
                "name": f"after-drain-{i}", "tenant": config["tenantName"],
                "resources": {"cpu": 0.1, "memory": "16Mi"}, "command": ["true"]})
            node = wait(lambda: (api.call("GET", f"/v1/jobs/{job['id']}/tasks", config["admin"])[1] or [{}])[0].get("node"), 30)
            placed.append(node)
        check(f"work submitted after the drain avoids {drained}", placed and drained not in placed and None not in placed,
              placed)

        # Screenshots of every page at both sizes, each checked for its regions.
        pages = [
            ("overview", "/ui/", ["header#top", "#summary .tile", "#alerts", ".node-card svg.chart"]),
            ("nodes", "/ui/nodes", ["header#top", "#nodes table", f"tr[data-node='{drained}']"]),
            ("jobs", "/ui/jobs", ["header#top", "form.filter", "#jobs table"]),
            ("job", "/ui/jobs/" + config["otherJob"], ["header#top", "#job-head", "#tasks table", "#log"]),
            ("tenants", "/ui/tenants", ["header#top", "#quota table", "#forecast"]),
            ("capacity", "/ui/capacity", ["header#top", ".report #findings", ".report svg.chart"]),
        ]
        for name, path, regions in pages:
            for width, height in [(1280, 800), (390, 844)]:
                resize(driver, width, height)
                driver.get(base + path)
                wait(lambda: "live" in (driver.find_element(By.ID, "live").get_attribute("class") or ""), 10)
                time.sleep(1.5 if name != "job" else 3)
                screenshot(driver, name, artifacts, regions, width, height)

        # Undrain from the page.
        resize(driver, 1280, 800)
        driver.get(base + "/ui/nodes")
        check("a draining node offers Undrain",
              wait(lambda: "Undrain" in text(driver, f"tr[data-node='{drained}'] button.act"), 10))
        click(driver, f"tr[data-node='{drained}'] button.act")
        check("undrain shows on the page",
              wait(lambda: "ready" in text(driver, f"tr[data-node='{drained}'] .badge"), 10),
              text(driver, f"tr[data-node='{drained}']"))

        # Cancel a job from the jobs page.
        status, job = api.call("POST", "/v1/jobs", config["tenant"], {
            "name": "to-cancel", "tenant": config["tenantName"], "resources": {"cpu": 0.1, "memory": "16Mi"},
            "command": ["sleep", "60"]})
        driver.get(base + "/ui/jobs")
        row = f"tr[data-job='{job['id']}']"
        click(driver, row + " button.act", 15)
        driver.switch_to.alert.accept()
        check("cancel from the jobs page ends the job",
              wait(lambda: "cancelled" in text(driver, row + " .badge"), 30), text(driver, row))

        # Signing out ends the session: its cookie no longer opens anything.
        driver.find_element(By.ID, "signout").click()
        wait(lambda: "/ui/login" in driver.current_url, 10)
        collect_logs(driver)
        answer = fetch_status(driver, "/v1/jobs")
        check("after signing out the browser is refused", answer["status"] == 401, answer)
        driver.get_log("browser")  # that refusal's failed load, expected
    finally:
        driver.quit()


def main():
    config = json.load(open(sys.argv[1]))
    api = API(config["base"], config.get("ca"))
    try:
        tenant_part(config, api)
        admin_part(config, api)
    except Exception as error:  # report it as a failed check with what the page showed
        check("the console run finished", False, traceback.format_exc())
    origin = config["base"].rstrip("/")
    strays = [url for url in REQUESTS if not (url.startswith(origin + "/") or url.startswith("data:"))]
    check("no request leaves the page's origin", not strays, strays)
    errors = [entry for entry in CONSOLE if entry.get("level") in ("SEVERE", "WARNING")]
    check("no console errors", not errors, errors)
    print(json.dumps({"checks": CHECKS, "screenshots": SHOTS, "requests": len(REQUESTS), "console": CONSOLE}))


if __name__ == "__main__":
    main()
