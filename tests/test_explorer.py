"""``lrcore serve``: the server's answers, and the page in a real browser (headless
Chromium from Debian's packages, driven by Selenium through the system chromedriver;
the dev set-up installs both, and nothing is downloaded by the test tool)."""

import json
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import pytest

import lrcore
from lrcore import serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def server():
    srv = serve.make_server(port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def get(url, **params):
    """(status, JSON body) of a GET."""
    full = url + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(full, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_binds_to_loopback_by_default():
    srv = serve.make_server(port=0)
    try:
        assert srv.server_address[0] == "127.0.0.1"
    finally:
        srv.server_close()


def test_the_envelope_keeps_every_step(server):
    """Over 10^6 steps in 800 columns, a cycle of 3 steps (one-step peaks) keeps its
    peaks and troughs in every column: each column is its steps' min and max."""
    spec = "cyclic(base_lr=0.001, max_lr=0.1, step_size_up=1, step_size_down=2)"
    status, body = get(f"{server}/api/envelope", spec=spec, steps=1_000_000, width=800)
    assert status == 200
    env = json.loads(body)
    values = lrcore.table(lrcore.parse(spec), 1_000_000)
    x = env["x"] + [1_000_000]
    assert len(env["x"]) == 800 and x[0] == 0
    for k in range(0, 800, 97):
        part = values[x[k] : x[k + 1]]
        assert env["max"][k] == part.max() and env["min"][k] == part.min()
    assert max(env["max"]) == values.max() and min(env["min"]) == values.min()
    # a zoomed window of fewer steps than columns: every value as it is
    status, body = get(f"{server}/api/envelope", spec=spec, steps=1_000_000, lo=500, hi=520)
    env = json.loads(body)
    assert env["x"] == list(range(500, 520)) and env["max"] == values[500:520].tolist()


def test_exact_values_markers_and_downloads(server):
    spec = (
        "sequential([linear(start_factor=0.1, total_iters=10), cosine_annealing(T_max=90)],"
        " milestones=[10])"
    )
    values = lrcore.table(lrcore.parse(spec), 100, 0.3)
    status, body = get(f"{server}/api/at", spec=spec, steps=100, base=0.3, step=57)
    assert status == 200 and json.loads(body)["repr"] == repr(float(values[57]))
    _, body = get(f"{server}/api/envelope", spec=spec, steps=100, base=0.3, width=50)
    assert json.loads(body)["events"] == [10]
    _, body = get(f"{server}/api/export", spec=spec, steps=100, base=0.3, format="csv")
    rows = body.decode().splitlines()
    assert rows[0] == "step,lr0" and [float(r.split(",")[1]) for r in rows[1:]] == values.tolist()
    _, body = get(f"{server}/api/export", spec=spec, steps=100, base=0.3, format="json")
    assert lrcore.spec.from_dict(json.loads(body)["spec"]) == lrcore.parse(spec)
    status, body = get(f"{server}/api/check", spec="step(step_size=7, gamma=0.5)")
    assert (
        json.loads(body)["lrsched"] == "sched = lrsched.StepLR(optimizer, step_size=7, gamma=0.5)"
    )


@pytest.mark.parametrize(
    "spec",
    [
        "cosine_annealing_warm_restarts(T_0=50, T_mult=2, eta_min=0.001)",
        "step(step_size=7)",
        "timm_cosine(t_initial=40, lr_min=0.01, warmup_t=5)",
        "cosine_annealing_warm_restarts(T_0=10, decay=0.5)",  # (torch lacks decay: TableLR)
    ],
)
def test_the_lrsched_line_to_paste_runs_the_same_schedule(spec):
    torch = pytest.importorskip("torch")
    import lrsched

    line = serve.dropin_line(lrcore.parse(spec))
    optimizer = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.3)
    namespace = {"lrsched": lrsched, "optimizer": optimizer}
    exec(line, namespace)
    lrs = [optimizer.param_groups[0]["lr"]]
    for _ in range(99):
        optimizer.step()
        namespace["sched"].step()
        lrs.append(optimizer.param_groups[0]["lr"])
    assert lrs == lrcore.table(lrcore.parse(spec), 100, 0.3).tolist()


@pytest.mark.parametrize(
    "path,params,status,message",
    [
        (
            "/api/check",
            {"spec": "step(step_size=0)"},
            400,
            "step: step_size must be an integer >= 1",
        ),
        ("/api/check", {"spec": "cosine(T_max=10)"}, 400, "did you mean cosine_annealing"),
        (
            "/api/check",
            {"spec": "__import__('os').system('true')"},
            400,
            "expected name(param=value",
        ),
        ("/api/envelope", {"spec": "step(step_size=5)", "steps": 10**9}, 400, "steps must be"),
        ("/api/envelope", {"spec": "step(step_size=5)", "width": "x"}, 400, "width must be"),
        (
            "/api/envelope",
            {"spec": "one_cycle(max_lr=1, total_steps=10)", "base": 0.5},
            400,
            "base_lr must be left at 1.0",
        ),
        ("/api/at", {"spec": "step(step_size=5)", "steps": 10, "step": 10}, 400, "step must be"),
        (
            "/api/export",
            {"spec": "step(step_size=5)", "format": "exe"},
            400,
            "format must be one of",
        ),
        ("/etc/passwd", {}, 404, "no such page"),
        ("/api/check", {"spec": "x" * 20_000}, 400, "longer than"),
    ],
)
def test_bad_requests_get_a_4xx_and_one_line(server, path, params, status, message):
    got, body = get(server + path, **params)
    assert got == status
    error = json.loads(body)["error"]
    assert message in error and "Traceback" not in error and "\n" not in error
    assert get(f"{server}/api/check", spec="step(step_size=5)")[0] == 200  # still serving


def test_a_schedule_holding_a_function_is_refused():
    from lrcore.schedules.function import Lambda

    with pytest.raises(serve.BadRequest, match="no schedule holding a Python function"):
        serve._spec_checked(Lambda(lr_lambda=lambda e: 0.5))


# -- the page, in Chromium ---------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (make test installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,900", "--disable-gpu"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def shots(tmp_path):
    """Where screenshots go: LRCORE_SCREENSHOTS (docs/ refreshes the docs' pictures),
    else the test's folder."""
    return os.environ.get("LRCORE_SCREENSHOTS") or str(tmp_path)


def wait(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def ready(driver, after):
    wait(
        driver,
        lambda d: int(d.find_element("tag name", "body").get_attribute("data-ready") or 0) > after,
    )
    return int(driver.find_element("tag name", "body").get_attribute("data-ready"))


def add_text(driver, text):
    box = driver.find_element("id", "spec-text")
    box.clear()
    box.send_keys(text)
    driver.find_element("id", "add-text").click()


def test_the_page_plots_exact_values_shows_errors_and_restores_a_link(server, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    d = browser
    d.get(server + "/")
    n = ready(d, 0)
    # a typed spec: plotted, and the hovered step's exact LR is lrcore.table's
    spec = "cosine_annealing_warm_restarts(T_0=50, T_mult=2, eta_min=0.001)"
    add_text(d, spec)
    n = ready(d, n)
    want = lrcore.table(lrcore.parse(spec), 1000)
    over = d.find_element("css selector", "#plot .u-over")
    for fraction in (0.1, 0.37, 0.8):
        x = int(over.size["width"] * (fraction - 0.5))
        ActionChains(d).move_to_element_with_offset(over, x, 0).perform()
        wait(d, lambda d: d.find_element("id", "hover").get_attribute("data-step"))
        wait(d, lambda d: "step" in d.find_element("id", "hover").text)
        step = int(d.find_element("id", "hover").get_attribute("data-step"))
        line = d.find_element("id", "hover").text.splitlines()[1]
        assert line.endswith(repr(float(want[step]))), (step, line)
    # a second schedule from the form (fields from the declarations), its own base LR
    Select(d.find_element("id", "family")).select_by_value("step")
    field = d.find_element("css selector", "#fields input[name=step_size]")
    field.send_keys("200")
    d.find_element("id", "add-form").click()
    n = ready(d, n)
    base = d.find_elements("css selector", "#curves .base")[1]
    base.send_keys(Keys.CONTROL, "a")
    base.send_keys("0.5", Keys.ENTER)  # (no clear(): it fires a change of its own)
    n = ready(d, n)
    items = d.find_elements("css selector", "#curves li")
    assert [i.get_attribute("data-spec") for i in items] == [
        str(lrcore.parse(spec)),
        "step(step_size=200, gamma=0.1)",
    ]
    assert "sched = lrsched.StepLR(optimizer, step_size=200)" in items[1].text
    d.save_screenshot(os.path.join(shots(tmp_path), "explorer.png"))
    # a bad value: lrcore's own message, in the page
    add_text(d, "step(step_size=0)")
    wait(d, lambda d: d.find_element("id", "error").text)
    assert d.find_element("id", "error").text == (
        "step: step_size must be an integer >= 1, got step_size=0"
    )
    d.save_screenshot(os.path.join(shots(tmp_path), "explorer-error.png"))
    # the link reproduces the view
    link = d.current_url
    d.get("about:blank")
    d.get(link)
    ready(d, 0)
    items = d.find_elements("css selector", "#curves li")
    assert [i.get_attribute("data-spec") for i in items] == [
        str(lrcore.parse(spec)),
        "step(step_size=200, gamma=0.1)",
    ]
    assert [b.get_attribute("value") for b in d.find_elements("css selector", "#curves .base")] == [
        "1",
        "0.5",
    ]
    assert np.isclose(float(d.find_element("id", "steps").get_attribute("value")), 1000)
