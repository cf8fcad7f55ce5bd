"""Dashboards: driven programmatically (widget values, button clicks, callbacks) with small stand-ins and a tiny
real run, and once for real in JupyterLab + headless Chromium (skipped when Chromium or selenium is missing).

The browser test uses selenium with Debian's chromedriver rather than Playwright: selenium is a pure-Python
wheel and the driver comes from the same Debian release as the browser (versions always match), while
Playwright brings a Node runtime of its own (~120 MB installed) that this test does not need."""
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from skeleton_cyclegan.core import SkeletonCycleGANError
from skeleton_cyclegan.lambda_dashboard import LambdaDashboard
from skeleton_cyclegan.monitor import TrainingMonitor, decode_png, loss_figure, png_bytes, watch
from skeleton_cyclegan.viewer import FrameViewer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "out"
FIXTURES = ROOT / "tests" / "fixtures" / "dashboards"


# ---------------------------------------------------------------- stand-ins
class StandInTrainer:
    "The part of the Trainer that dashboards use: callbacks, iteration counters, stop request, save, sample_grid."
    def __init__(self, total_iters=10, callbacks=(), delay=0.0, fail_at=None):
        self.total_iters, self.callbacks, self.delay, self.fail_at = total_iters, list(callbacks), delay, fail_at
        self.iteration, self.balancer, self.saved, self.lambdas = 0, None, [], []
        self.cfg = SimpleNamespace(lambda_skel=1.0, skel_ratio=0.1, max_iters=total_iters)
        self._stop = threading.Event()

    def request_stop(self): self._stop.set()
    def clear_stop(self): self._stop.clear()
    def sample_grid(self): return np.full((16, 48, 3), self.iteration * 20 % 256, np.uint8)

    def save(self, path=None):
        self.saved.append(self.iteration)
        for cb in self.callbacks: getattr(cb, "on_checkpoint", lambda *a: None)(self, self.iteration, Path("ckpt.pt"))

    def fit(self):
        while self.iteration < self.total_iters:
            self.iteration += 1
            if self.iteration == self.fail_at: raise SkeletonCycleGANError("loss skel_A became nan")
            lam = self.balancer() if self.balancer is not None else self.cfg.lambda_skel
            self.lambdas.append(lam)
            r = dict(gan_G=1 / self.iteration, skel_G=.1, skel_F=.1, lambda_skel=lam, skel_weighted=lam * .2, G_total=2 + lam * .2)
            for cb in self.callbacks: getattr(cb, "on_iteration", lambda *a: None)(self, self.iteration, r)
            time.sleep(self.delay)
            if self._stop.is_set(): break
        self.save()
        for cb in self.callbacks: getattr(cb, "on_end", lambda *a: None)(self)


class StandInH(torch.nn.Module):
    "33 landmarks along the brightest row of the image; heatmaps = brightness (no backend: drawn in BlazePose's layout)."

    def forward(self, x):
        g = x.mean(1)
        B, S = g.shape[0], g.shape[-1]
        row = g.mean(2).argmax(1).float()
        lm = torch.stack([torch.linspace(0, S - 1, 33).expand(B, 33), row[:, None].expand(B, 33)], -1)
        hm = torch.nn.functional.interpolate(g[:, None], size=(64, 64)).expand(B, 33, 64, 64) * .5 + .5
        return SimpleNamespace(landmarks=lm, visibility=torch.ones(B, 33), heatmaps=hm)


def wait_for(cond, timeout=120.0):
    t0 = time.monotonic()
    while not cond() and time.monotonic() - t0 < timeout: time.sleep(0.02)
    return cond()


def moving_bar(n=10, s=48, shift_from=5, shift=4):
    src = np.zeros((n, s, s, 3), np.uint8)
    for i in range(n): src[i, 4 * i:4 * i + 5] = 255
    gen = src.copy()
    gen[shift_from:] = np.roll(src[shift_from:], shift, axis=1)
    return src, gen


def px_error(a, b): return np.linalg.norm(a - b, axis=-1).mean(1)


# ---------------------------------------------------------------- programmatic
def test_loss_figure_shapes_and_content():
    hist = [dict(iteration=i, gan_G=1 / i, D_A=.25, lambda_skel=2., skel_weighted=.3, G_total=3.) for i in range(1, 50)]
    a, empty = loss_figure(hist), loss_figure([])
    assert a.shape == empty.shape and a.dtype == np.uint8
    assert not np.array_equal(a, empty)
    assert np.array_equal(decode_png(png_bytes(a)), a)


def test_monitor_follows_callbacks_at_a_bounded_rate():
    mon = TrainingMonitor(refresh_every=60, sample_every_s=0)
    tr = StandInTrainer(25, callbacks=[mon], delay=0.002)
    mon.begin(tr)
    blank = mon.plot.value
    tr.fit()
    assert [r["iteration"] for r in mon.history] == list(range(1, 26))
    assert mon.ended and mon.last_checkpoint[0] == 25 and mon.iteration == mon.total == 25
    assert mon.plot.value != blank and decode_png(mon.sample.value).shape == (16, 48, 3)
    assert mon.it_per_s is not None and mon.it_per_s > 0
    time.sleep(0.3)
    assert 1 <= mon.n_redraws <= 2, f"{mon.n_redraws} redraws for 25 iterations with refresh_every=60"
    assert "iteration <b>25</b> / 25" in mon.status.value and "ended" in mon.status.value
    mon.reset()
    assert mon.history == [] and mon.plot.value == blank


def test_watch_subscribes_to_the_trainer():
    tr = StandInTrainer(3)
    mon = watch(tr, refresh_every=0.1)
    assert tr.callbacks == [mon]
    tr.fit()
    assert len(mon.history) == 3 and mon.ended


def test_lambda_dashboard_drives_the_trainer():
    made = []

    def make(cfg, folder, cbs):
        made.append((cfg, folder))
        return StandInTrainer(cfg.max_iters, cbs, delay=0.005)

    cfg = SimpleNamespace(lambda_skel=0.3, skel_ratio=0.1, max_iters=5, log_every=10)
    d = LambdaDashboard(cfg=cfg, out=OUT / "dash-test", make_trainer=make, refresh_every=0.2, sample_every_s=None)
    d._new_balancer = lambda cfg: (lambda: 4.0)
    assert (d.lambda_skel, d.auto.value, d.lam.disabled, d.stop_button.disabled) == (0.3, False, False, True)
    d.lam.value = 2.0                                  # before the run: taken when the trainer is built
    d.start_button.click()
    assert d.wait(120)
    tr = d.trainer
    assert made[0][0].lambda_skel == 2.0 and made[0][0].log_every == 1 and made[0][1].name == "run-001"
    assert cfg.lambda_skel == 0.3, "the user's config is copied, not changed"
    assert tr.iteration == 5 and tr.lambdas == [2.0] * 5 and "finished at iteration 5" in d.message.value
    # auto mode hands the trainer a balancer; the slider follows and is disabled
    d.auto.value = True
    assert tr.cfg.lambda_skel is None and tr.balancer is not None and d.lam.disabled
    d.iters.value = 8
    d.start(); assert d.wait(120)
    assert tr.lambdas[5:] == [4.0] * 3 and d.start_button.description == "continue"
    # back to a fixed value: the balancer is kept aside, the fixed value used
    d.auto.value = False; d.lam.value = 0.01
    assert tr.balancer is None and tr.cfg.lambda_skel == 0.01
    d.start()
    assert "budget" in d.message.value and not d.running    # 8 of 8 done: nothing to run
    # minutes: a time budget from this start, the iterations its upper bound
    d.iters.value, d.minutes.value = 9, 2.5
    d.start(); assert d.wait(120)
    assert tr.cfg.time_budget == 2.5 and tr.budget is not None and tr.budget.seconds == 150 and tr.iteration == 9
    d.reset_button.click()
    assert d.trainer is None and d.folder.name == "run-002" and d.monitor.history == []


def test_lambda_dashboard_stop_save_and_errors():
    d = LambdaDashboard(cfg=SimpleNamespace(lambda_skel=None, skel_ratio=0.1, max_iters=100000),
                        out=OUT / "dash-test", make_trainer=lambda c, f, cbs: StandInTrainer(c.max_iters, cbs, delay=0.003),
                        refresh_every=30, sample_every_s=None)
    d._new_balancer = lambda cfg: (lambda: 1.5)
    assert d.auto.value and d.lam.disabled
    d.start()
    assert wait_for(lambda: d.trainer.iteration >= 3)
    assert d.running and d.start_button.disabled and not d.stop_button.disabled
    d.save_button.click()                                 # carried out by the training thread
    assert wait_for(lambda: len(d.trainer.saved) == 1)
    d.stop_button.click()
    assert d.wait(120)
    tr = d.trainer
    assert 3 <= tr.saved[0] <= tr.iteration < 100000 and len(tr.saved) == 2   # a stop may land on the save's iteration
    assert "stopped at iteration" in d.message.value and not d.running and not d.start_button.disabled
    # an error in the training thread is shown, kept, and does not leave the buttons stuck
    d.reset()
    d.make_trainer = lambda c, f, cbs: StandInTrainer(10, cbs, fail_at=3)
    d.start(); assert d.wait(120)
    assert isinstance(d.error, SkeletonCycleGANError) and "nan" in d.message.value and not d.start_button.disabled


def test_lambda_dashboard_needs_data():
    with pytest.raises(SkeletonCycleGANError, match="dataset"):
        LambdaDashboard(cfg=SimpleNamespace(lambda_skel=1.0, skel_ratio=0.1, max_iters=5))


def test_frame_viewer_slider_image_and_marker():
    src, gen = moving_bar()
    fv = FrameViewer(src, gen, H=StandInH(), fps=5, tile=64, error_fn=px_error, keypoints=[0, 10, 20])
    np.testing.assert_allclose(fv.errors, [0] * 5 + [4] * 5, atol=1e-4)
    img0, plot0 = fv.image.value, fv.plot.value
    panels = decode_png(img0)
    assert panels.shape == (64, 4 * 64, 3)
    fv.slider.value = 7
    assert fv.frame == 7 and fv.image.value != img0 and fv.plot.value != plot0
    assert "frame 7 / 9" in fv.label.value
    p7 = decode_png(fv.plot.value)
    red = (p7[..., 0] > 200) & (p7[..., 1] < 60) & (p7[..., 2] < 60)
    cols = np.flatnonzero(red.any(0))
    p0 = decode_png(plot0)
    cols0 = np.flatnonzero(((p0[..., 0] > 200) & (p0[..., 1] < 60) & (p0[..., 2] < 60)).any(0))
    assert cols.mean() > cols0.mean() + 50, "the marker moves right with the frame"
    # skeleton panel: H(generated) differs from H(source) on shifted frames, so magenta appears apart from green
    sk = decode_png(fv.image.value)[:, 128:192]
    assert ((sk[..., 0] > 200) & (sk[..., 1] < 80) & (sk[..., 2] > 200)).any()
    fv.show(99)
    assert fv.frame == 9 and fv.slider.value == 9     # clamped


def test_frame_viewer_bad_input():
    src, gen = moving_bar()
    with pytest.raises(SkeletonCycleGANError, match="same shape"):
        FrameViewer(src, gen[:, :40])
    with pytest.raises(SkeletonCycleGANError, match="values for"):
        FrameViewer(src, gen, errors=np.zeros(3))
    fv = FrameViewer(src, gen)                        # no H: source and generated only, blank analysis panels
    assert fv.errors is None and fv.plot.value == b"" and decode_png(fv.image.value).shape == (256, 1024, 3)


# ---------------------------------------------------------------- the real Trainer, tiny
@pytest.fixture(scope="module")
def tiny_dancers(tmp_path_factory):
    "H and two 4-frame synthetic datasets (128² crops, H's heatmaps cached)."
    from skeleton_cyclegan.pose import blazepose
    from skeleton_cyclegan.render import make_dataset
    from skeleton_cyclegan.synthetic import DOMAIN_A, DOMAIN_B
    d = tmp_path_factory.mktemp("dancers")
    H = blazepose()
    return H, make_dataset(DOMAIN_A, d / "A", 4, 128, 0, H=H, progress=False), make_dataset(DOMAIN_B, d / "B", 4, 128, 1, H=H, progress=False)


def test_dashboards_with_the_real_trainer(tiny_dancers, tmp_path):
    "Fixed λ_skel reaches the real Trainer's loss, auto hands it the balancer, then the viewer reads the run it wrote."
    from skeleton_cyclegan.data import UnpairedDataset
    from skeleton_cyclegan.evaluate import small_config
    from skeleton_cyclegan.losses import LambdaSkel
    H, A, B = tiny_dancers
    cfg = small_config(64, 2, ngf=8, ndf=8, n_blocks=1)
    d = LambdaDashboard(UnpairedDataset(A, B, size=64), tmp_path, cfg=cfg, H=H, refresh_every=0.5, sample_every_s=0)
    assert d.auto.value, "TrainConfig's lambda_skel=None (automatic) shows as auto"
    d.auto.value, d.lam.value = False, 3.0
    d.start()
    assert d.wait(600) and d.error is None, d.message.value
    assert [r["iteration"] for r in d.monitor.history] == [1, 2]
    assert all(abs(r["lambda_skel"] - 3.0) < 1e-5 for r in d.monitor.history)
    assert decode_png(d.monitor.sample.value).shape == (128, 192, 3)       # real | fake | skeletons, for A and B
    assert (d.folder / "generators.pt").exists() and "finished at iteration 2" in d.message.value
    d.auto.value, d.iters.value = True, 3
    d.start()
    assert d.wait(600) and d.error is None, d.message.value
    assert isinstance(d.trainer.balancer, LambdaSkel) and d.trainer.cfg.lambda_skel is None
    lam3 = d.monitor.history[-1]["lambda_skel"]
    assert d.monitor.history[-1]["iteration"] == 3 and np.isfinite(lam3) and lam3 != 3.0
    fv = FrameViewer.from_run(d.folder, A, H=H, max_frames=4, tile=64)
    assert fv.errors.shape == (4,) and np.isfinite(fv.errors).all()
    img0 = fv.image.value
    fv.slider.value = 3
    assert fv.image.value != img0 and decode_png(fv.image.value).shape == (64, 256, 3)


# ---------------------------------------------------------------- real browser
CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path):
    "JupyterLab on 127.0.0.1 with a random port and token, serving a copy of the demo notebook; yields (url, token, folder)."
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.skip("Chromium is not installed: apt-get install chromium chromium-driver (.ci/run does this as root)")
    pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium): it drives the browser")
    pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(FIXTURES / "dashboards_demo.ipynb", root)
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "SCG_DEMO_OUT": os.environ.get("SCG_DEMO_OUT", str(tmp_path / "runs")), "PYTHONWARNINGS": "ignore"}
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                             "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             "--LabApp.news_url=", "--ServerApp.open_browser=False", "--ServerApp.allow_root=True"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request
        def up():
            try: return urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).status == 200
            except Exception: return False
        if not wait_for(up, 90):
            raise AssertionError(f"JupyterLab did not start:\n{(tmp_path / 'jupyterlab.log').read_text()[-3000:]}")
        yield url, token, tmp_path
    finally:
        os.killpg(proc.pid, 15)                       # the server and the kernels it started (its own session)
        try: proc.wait(15)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, 9)
        log.close()


def _chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = CHROMIUM
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--disable-dev-shm-usage", "--window-size=1500,2200", "--hide-scrollbars"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def test_dashboards_in_browser(jupyterlab):
    "Open the demo notebook in JupyterLab, run it from the Run menu, check that the widgets render and respond."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    url, token, tmp = jupyterlab
    OUT.mkdir(parents=True, exist_ok=True)
    drv = _chrome()
    drv.set_page_load_timeout(120)
    find = lambda css: drv.find_elements(By.CSS_SELECTOR, css)

    def seen(css):
        "Elements matching `css`, after accepting any dialog JupyterLab puts up (a kernel choice, for one)."
        for b in find(".jp-Dialog .jp-mod-accept"):
            try: b.click()
            except Exception: pass
        return find(css)
    try:
        # Idle is read from the status bar's kernel text ("Python 3 (ipykernel) | Idle"): the execution indicator can
        # read idle for a moment before any kernel is connected (CI saw it flip back to "No Kernel | Initializing").
        # seen() accepts a kernel-choice dialog, which would otherwise keep the kernel from starting.
        idle = lambda: any(re.search(r"\|\s*Idle\b", e.text) for e in seen(".jp-StatusBar-Widget"))
        steady = lambda: idle() and (time.sleep(2) or idle())
        for attempt in range(3):   # on a loaded machine the first kernel connection can stay "Connecting": reload
            drv.get(f"{url}/lab/tree/dashboards_demo.ipynb?token={token}")
            assert wait_for(lambda: find(".jp-Notebook .jp-Cell"), 120), "the notebook did not open"
            if wait_for(steady, 90 * (attempt + 1)): break
        status = [e.text for e in find(".jp-StatusBar-Widget")]
        assert steady(), f"the kernel did not start after 3 page loads; status bar: {status}"

        def started():
            return any(t.strip() not in ("", "[ ]:") for t in (e.text for e in seen(".jp-InputArea-prompt")))

        for attempt in range(4):                 # a dialog (kernel choice) may swallow the first click: retry
            seen("body")
            run_menu = [e for e in find(".lm-MenuBar-item") if e.text.strip() == "Run"]
            assert run_menu, "no Run menu"
            run_menu[0].click()
            assert wait_for(lambda: find("li[data-command='runmenu:run-all']"), 10)
            find("li[data-command='runmenu:run-all']")[0].click()
            if wait_for(started, 15): break
        assert started(), "Run All Cells did not start the notebook"

        # the frame viewer renders; moving the slider (keyboard on its handle) changes the picture
        assert wait_for(lambda: seen(".scg-frame-viewer img.scg-frame-image"), 900), \
            "the frame viewer did not render:\n" + "\n".join(e.text[-500:] for e in find(".jp-OutputArea-output"))
        viewer = find(".scg-frame-viewer")[0]
        label = lambda: find(".scg-frame-label")[0].text
        assert wait_for(lambda: label().startswith("frame 0 /"), 30), label()
        drv.execute_script("arguments[0].scrollIntoView()", viewer)
        time.sleep(0.5)
        before = find(".scg-frame-image")[0].screenshot_as_png
        viewer.screenshot(str(OUT / "frame_viewer_0.png"))
        handle = viewer.find_element(By.CSS_SELECTOR, ".scg-frame-slider .noUi-handle")
        handle.click()
        for _ in range(5): handle.send_keys(Keys.ARROW_RIGHT)
        assert wait_for(lambda: label().startswith("frame 5 /"), 30), f"the slider did not move the frame: {label()!r}"
        time.sleep(1.0)
        after = find(".scg-frame-image")[0].screenshot_as_png
        assert after != before, "moving the frame slider did not change the image"
        viewer.screenshot(str(OUT / "frame_viewer.png"))

        # the lambda dashboard: start trains in the background, the loss plot and the message update
        if find(".scg-lambda-dashboard"):
            dash = find(".scg-lambda-dashboard")[0]
            drv.execute_script("arguments[0].scrollIntoView()", dash)
            plot0 = find(".scg-lambda-dashboard .scg-loss-plot")[0].screenshot_as_png
            msg = lambda: find(".scg-lambda-dashboard .scg-message")[0].text
            find(".scg-lambda-dashboard .scg-start")[0].click()
            assert wait_for(lambda: "finished" in msg() or "error" in msg(), 900), msg()
            assert "finished" in msg(), msg()
            time.sleep(1.5)
            assert find(".scg-lambda-dashboard .scg-loss-plot")[0].screenshot_as_png != plot0
            dash.screenshot(str(OUT / "lambda_dashboard.png"))
        drv.save_screenshot(str(OUT / "jupyterlab.png"))
    except BaseException:
        drv.save_screenshot(str(OUT / "browser_failed.png"))
        (OUT / "browser_failed.log").write_text((tmp / "jupyterlab.log").read_text())
        raise
    finally:
        drv.quit()
