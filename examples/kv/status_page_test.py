#!/usr/bin/env python3
"""The synod-kv status page in a real headless Chromium, driven through WebDriver.

Starts three synod-kv processes on 127.0.0.1, opens the page of a node that does not lead
partition 1 after some writes, checks that it shows every node up and the leader every
node agrees on, kills
that leader with SIGKILL, and checks that the page, refreshing itself, marks the node down,
shows the survivors' new leader of partition 1 and lists that change. Keeps a screenshot.
Every wait is bounded.

    examples/kv/status_page_test.py path/to/synod-kv SCREENSHOT.png
"""
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo  # noqa: E402  (the cluster launcher the demo uses)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def text_of(driver, element_id):
    """The element's text, or None while the page has not drawn it (it redraws in place)."""
    try:
        return driver.find_element(By.ID, element_id).text
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def changes(driver):
    """(partition, leader, term) of every leader change the page lists."""
    try:
        return [(int(li.get_attribute("data-partition")), int(li.get_attribute("data-leader")),
                 int(li.get_attribute("data-term")))
                for li in driver.find_elements(By.CSS_SELECTOR, "#changes li.change")]
    except StaleElementReferenceException:
        return None


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    binary, screenshot = sys.argv[1], sys.argv[2]
    root = tempfile.mkdtemp(prefix="synod-kv-status-page-")
    cluster = demo.Cluster(binary, root, "grpc")
    driver = None
    try:
        for node in demo.NODES:
            cluster.start(node)
        leaders = demo.until("every node to agree on the leaders", lambda: cluster.leaders(demo.NODES))
        for i in range(24):  # something committed and applied in every partition
            demo.write_until_acknowledged(cluster, demo.NODES, f"key-{i}", f"value-{i}")
        driver = browser()

        def page_leader():
            """The leader of partition 1 the page shows with every node up and its election
            listed, or None while it shows less (it redraws itself every 500 ms)."""
            leader, term = text_of(driver, "leader-p1"), text_of(driver, "term-p1")
            if not (leader and leader.isdigit() and term and term.isdigit()):
                return None
            if not all(text_of(driver, f"state-n{n}") == "up" for n in demo.NODES):
                return None
            return int(leader) if (1, int(leader), int(term)) in (changes(driver) or []) else None

        # The page of a node that does not lead partition 1 (on a loaded machine leadership
        # may move while the page opens: then look again from another node).
        viewer = next(n for n in demo.NODES if n != leaders[1])
        for _ in range(5):
            driver.get(cluster.url(viewer, "/"))
            leader = demo.until("the page to show every node up and the leader of partition 1", page_leader)
            if leader != viewer:
                break
            viewer = next(n for n in demo.NODES if n != leader)
        else:
            raise SystemExit("status page test: partition 1's leader kept moving to the viewing node")
        print(f"the page of node {viewer} shows node {leader} leading partition 1")

        cluster.processes[leader].send_signal(signal.SIGKILL)
        cluster.processes[leader].wait(timeout=demo.PATIENCE_S)
        survivors = [n for n in demo.NODES if n != leader]

        def shows_the_failover():
            new_leader, state, term = (text_of(driver, "leader-p1"), text_of(driver, f"state-n{leader}"),
                                       text_of(driver, "term-p1"))
            if not (new_leader and new_leader.isdigit() and state and term and term.isdigit()):
                return None
            if not state.startswith("down") or int(new_leader) not in survivors:
                return None
            if text_of(driver, f"role-p1-n{leader}") != "down":  # its partition cell too
                return None
            return int(new_leader) if (1, int(new_leader), int(term)) in (changes(driver) or []) else None

        new_leader = demo.until("the page to show the killed node down and a new leader listed",
                                shows_the_failover)
        print(f"the page shows node {leader} down and node {new_leader} leading partition 1")
        os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
        if not driver.save_screenshot(screenshot):
            raise SystemExit(f"status page test: no screenshot written to {screenshot}")
        print(f"screenshot: {screenshot}")
    finally:
        if driver is not None:
            driver.quit()
        cluster.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    print("status page test: ok")


if __name__ == "__main__":
    main()
