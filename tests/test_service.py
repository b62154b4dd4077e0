"""The web service: API through FastAPI's test client, a real uvicorn process, and the page in Chromium."""

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from imgdenoise.io import decode_image, encode_image
from imgdenoise.metrics import psnr
from imgdenoise.service import WEB_DIR, create_app
from imgdenoise.service_config import ServiceConfig


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(ServiceConfig(models=["dncnn", "seed"])))


@pytest.fixture(scope="module")
def clean_and_noisy():
    from skimage import data

    clean = (data.camera()[100:196, 200:296] / 255.0).astype(np.float32)[..., None]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 25 / 255, clean.shape), 0, 1).astype(np.float32)
    return clean, noisy


def post(client, body: bytes, name="noisy.png", **fields):
    return client.post("/v1/denoise", files={"image": (name, body, "application/octet-stream")}, data=fields)


def test_health_models_and_openapi(client):
    assert client.get("/healthz").json()["status"] == "ok"
    models = client.get("/v1/models").json()
    assert models["default"] == "dncnn" and [m["name"] for m in models["models"]] == ["dncnn", "seed"]
    assert models["models"][0]["networks"]["dncnn-gray"]["architecture"]["name"] == "dncnn"
    assert "/v1/denoise" in client.get("/openapi.json").json()["paths"]


def test_page_and_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>imgdenoise</title>" in page.text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200
    for path in WEB_DIR.iterdir():  # no CDN: nothing is fetched from another host
        assert not re.search(r"https?://", path.read_text()), path.name


def test_api_docs_page_loads_its_scripts_from_this_service(client):
    """/docs works offline: every script and style it names is served here, none from another host."""
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assets += re.findall(r"""url: ?["']([^"']+)["']""", page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert not re.match(r"(https?:)?//", asset), asset
        assert client.get(asset).status_code == 200, asset


def test_denoise_returns_a_cleaner_png_with_sigma_and_timing_headers(client, clean_and_noisy):
    clean, noisy = clean_and_noisy
    response = post(client, encode_image(noisy, "PNG"))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    if client.app.state.pool.get("dncnn").noise_conditional:
        assert response.headers["x-sigma-source"] == "estimated" and 15 < float(response.headers["x-sigma"]) < 35
    else:
        assert response.headers["x-sigma-source"] == "not used by this model"
    assert float(response.headers["x-processing-seconds"]) > 0 and response.headers["x-model"] == "dncnn"
    assert "noisy-denoised.png" in response.headers["content-disposition"]
    result = decode_image(response.content).pixels
    assert result.shape == clean.shape and psnr(clean, result) > psnr(clean, noisy) + 3


def test_quality_is_passed_to_the_denoiser_and_reported(client, clean_and_noisy):
    _, noisy = clean_and_noisy
    body = encode_image(noisy, "PNG")
    fast, standard = (post(client, body, sigma="25", quality=q) for q in ("fast", "standard"))
    assert fast.headers["x-quality"] == "fast" and standard.headers["x-quality"] == "standard"
    expected = client.app.state.pool.get("dncnn").denoise(decode_image(body).pixels, 25.0, quality="fast")
    np.testing.assert_allclose(decode_image(fast.content).pixels, np.clip(expected, 0, 1), atol=1 / 255)
    assert fast.content != standard.content


def test_strength_zero_returns_the_input_and_is_reported(client, clean_and_noisy):
    _, noisy = clean_and_noisy
    body = encode_image(noisy, "PNG")
    response = post(client, body, sigma="25", model="seed", strength="0")
    assert response.status_code == 200 and response.headers["x-strength"] == "0"
    np.testing.assert_array_equal(decode_image(response.content).pixels, decode_image(body).pixels)
    half = post(client, body, sigma="25", model="seed", strength="0.5")
    full = post(client, body, sigma="25", model="seed")
    np.testing.assert_allclose(decode_image(half.content).pixels,
                               (decode_image(body).pixels + decode_image(full.content).pixels) / 2, atol=1.5 / 255)


def test_format_and_bit_depth_follow_the_input_unless_asked(client, clean_and_noisy):
    _, noisy = clean_and_noisy
    response = post(client, encode_image(noisy, "TIFF", bit_depth=16), name="scan.tif", sigma="25", model="seed")
    assert response.headers["content-type"] == "image/tiff"
    assert decode_image(response.content, native=True).pixels.dtype == np.uint16
    as_png = post(client, encode_image(noisy, "TIFF", bit_depth=16), name="scan.tif", format="png")
    assert as_png.headers["content-type"] == "image/png" and decode_image(as_png.content).bit_depth == 16


@pytest.mark.parametrize("fields, body, status, message", [
    ({"sigma": "loud"}, None, 400, "sigma must be a number"),
    ({"sigma": "-3"}, None, 400, "within"),
    ({"model": "../../etc/passwd"}, None, 400, "unknown model"),
    ({"format": "gif"}, None, 400, "format must be"),
    ({"quality": "max"}, None, 400, "quality must be one of fast, standard, best"),
    ({"strength": "much"}, None, 400, "strength must be a number"),
    ({"strength": "9"}, None, 400, "strength must be within [0, 4]"),
    ({}, b"this is not an image", 415, "not a PNG, JPEG, BMP, TIFF, WebP or HEIF"),
    ({}, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, 415, "cannot decode"),
    ({}, b"", 415, "empty"),
])
def test_bad_requests_get_a_json_error_naming_the_problem(client, clean_and_noisy, fields, body, status, message):
    body = encode_image(clean_and_noisy[1], "PNG") if body is None else body
    response = post(client, body, **fields)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_upload_and_pixel_limits_answer_413(clean_and_noisy):
    small = TestClient(create_app(ServiceConfig(models=["seed"], max_upload_bytes=1000, max_pixels=100)))
    big = encode_image(np.random.default_rng(0).random((64, 64)), "PNG")
    assert post(small, big).status_code == 413
    tiny_file = encode_image(np.zeros((20, 20)), "PNG")
    response = post(small, tiny_file)
    assert response.status_code == 413 and "exceeds the limit" in response.json()["detail"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A real `imgdenoise serve` process on a loopback port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "imgdenoise", "serve", "--port", str(port), "--models", "dncnn"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, "PYTHONPATH": os.getcwd()})
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("service did not start: " + process.stdout.read().decode()[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_real_uvicorn_process_denoises(server, clean_and_noisy):
    import httpx

    clean, noisy = clean_and_noisy
    response = httpx.post(f"{server}/v1/denoise", files={"image": ("n.png", encode_image(noisy, "PNG"))},
                          data={"sigma": "25"}, timeout=120)
    assert response.status_code == 200
    assert psnr(clean, decode_image(response.content).pixels) > psnr(clean, noisy) + 3


def chromium_path():
    return next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def test_page_in_headless_chromium_denoises_and_downloads(server, clean_and_noisy, tmp_path):
    if chromium_path() is None:
        if os.environ.get("IMGDENOISE_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (IMGDENOISE_REQUIRE_BROWSER) but not installed")
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    clean, noisy = clean_and_noisy
    noisy_file = tmp_path / "noisy.png"
    noisy_file.write_bytes(encode_image(noisy, "PNG"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
        page = browser.new_page(accept_downloads=True)
        page.goto(server)
        page.wait_for_selector("#model option[value=dncnn]", state="attached")
        page.set_input_files("#file", str(noisy_file))
        page.uncheck("#auto")
        page.fill("#sigma", "25")
        page.fill("#strength", "0.9")  # the strength slider reaches the service
        assert page.inner_text("#strength-value") == "0.90"
        page.click("#run")
        page.wait_for_selector("#download:not(.hidden)", timeout=120_000)
        assert "Done" in page.inner_text("#status") and "strength 0.9" in page.inner_text("#status")
        assert page.evaluate("document.getElementById('after').naturalWidth") == clean.shape[1]  # displayed
        with page.expect_download() as download:
            page.click("#download")
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        browser.close()
    assert saved.name == "noisy-denoised.png"
    result = decode_image(saved.read_bytes()).pixels
    assert psnr(clean, result) > psnr(clean, noisy) + 3


def _screenshot_pixels(png: bytes) -> np.ndarray:
    return decode_image(png).pixels.mean(axis=-1)


def test_page_shows_input_left_and_result_right_of_the_divider_aligned(server, tmp_path):
    """At 1280x900, zoom fit: before any upload an empty state (no broken images); after denoising a
    512x512 gray PNG, the screenshot left of the divider is the input's pixels and right of it the
    result's, at the same place and scale; so at another slider position and at 200%."""
    if chromium_path() is None:
        if os.environ.get("IMGDENOISE_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (IMGDENOISE_REQUIRE_BROWSER) but not installed")
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    from skimage import data

    clean = (data.camera() / 255.0).astype(np.float32)
    noisy = np.clip(clean + np.random.default_rng(1).normal(0, 40 / 255, clean.shape), 0, 1)
    noisy = np.round(noisy * 255) / 255
    noisy_file = tmp_path / "camera.png"
    noisy_file.write_bytes(encode_image(noisy[..., None], "PNG"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server)
        page.wait_for_selector("#model option[value=dncnn]", state="attached")
        assert page.is_visible("#empty") and not page.is_visible("#before") and not page.is_visible("#after")
        page.set_input_files("#file", str(noisy_file))
        page.uncheck("#auto")
        page.fill("#sigma", "40")
        page.click("#run")
        page.wait_for_selector("#download:not(.hidden)", timeout=120_000)
        assert not page.is_visible("#empty")
        result = page.evaluate("fetch(document.getElementById('after').src).then(r => r.arrayBuffer())"
                               ".then(b => Array.from(new Uint8Array(b)))")
        result = decode_image(bytes(result)).pixels[..., 0]

        def check(split: int):
            page.fill("#split", str(split))
            shot = _screenshot_pixels(page.locator("#stage").screenshot())
            assert shot.shape == noisy.shape, "the stage is not drawn at the image's size (100% fits here)"
            edge = round(noisy.shape[1] * split / 100)
            for region, shown, other in ((np.s_[:, :edge - 3], noisy, result), (np.s_[:, edge + 3:], result, noisy)):
                error = np.abs(shot[region] - shown[region]).mean()
                assert error < 0.01 and np.abs(shot[region] - other[region]).mean() > 5 * error

        check(50)
        check(30)
        page.select_option("#zoom", "2")
        boxes = [page.locator(f"#{i}").bounding_box() for i in ("stage", "before", "after")]
        assert boxes[0]["width"] == 2 * noisy.shape[1] and boxes[0] == boxes[1] == boxes[2]
        browser.close()


def test_service_warms_its_models_up_before_it_is_ready():
    app = create_app(ServiceConfig(models=["seed"]))
    with TestClient(app) as client:
        deadline = time.time() + 120
        health = client.get("/healthz")
        while health.status_code == 503 and time.time() < deadline:
            assert health.json()["status"] == "warming up"
            time.sleep(0.05)
            health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert "seed" in app.state.pool._loaded  # loaded (and run) before the first request
    cold = create_app(ServiceConfig(models=["seed"], warm_up=False))
    with TestClient(cold) as client:
        assert client.get("/healthz").status_code == 200 and not cold.state.pool._loaded


def test_full_queue_turns_requests_away_with_503_and_retry_after(clean_and_noisy):
    import threading

    app = create_app(ServiceConfig(models=["seed"], threads=1, queue=0, warm_up=False))
    pool = app.state.pool
    entered, release = threading.Event(), threading.Event()
    original = pool.get("seed").denoise_rows

    def slow_denoise_rows(pixels, sigma=None, **kwargs):
        entered.set()
        release.wait(30)
        yield from original(pixels, sigma, **kwargs)

    pool.get("seed").denoise_rows = slow_denoise_rows
    body = encode_image(clean_and_noisy[1], "PNG")
    with TestClient(app) as client:
        first = threading.Thread(target=lambda: post(client, body))
        first.start()
        assert entered.wait(30)
        busy = post(client, body)
        release.set()
        first.join()
        assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
        assert "busy" in busy.json()["detail"]
        assert post(client, body).status_code == 200  # capacity is back


def test_cors_is_off_unless_origins_are_given():
    preflight = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    closed = TestClient(create_app(ServiceConfig(models=["seed"])))
    assert "access-control-allow-origin" not in closed.options("/v1/denoise", headers=preflight).headers
    opened = TestClient(create_app(ServiceConfig(models=["seed"], cors_origins=["https://elsewhere.example"])))
    answer = opened.options("/v1/denoise", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "https://elsewhere.example"


@pytest.mark.parametrize("case", __import__("tests.corpus", fromlist=["cases"]).cases(), ids=lambda c: c.name)
def test_bad_input_corpus_through_the_service(client, case):
    response = post(client, case.data, name=case.name, sigma="20", model="seed")
    assert response.status_code == case.http_status, response.text[:300]
    if case.outcome != "ok":
        expected = "not a PNG, JPEG, BMP, TIFF, WebP or HEIF" if case.name == "text.png" else case.outcome
        assert expected in response.json()["detail"] and case.name in response.json()["detail"]


@pytest.mark.parametrize("shape", [(7, 7), (3, 500), (1, 2000)])
def test_small_and_thin_images_are_denoised_blind_not_a_500(shape):
    client = TestClient(create_app(ServiceConfig(models=["unet"])))
    image = np.random.default_rng(0).random(shape + (1,)).astype(np.float32)
    response = post(client, encode_image(image, "PNG"), sigma="auto")
    assert response.status_code == 200, response.text
    assert decode_image(response.content).pixels.shape == shape + (1,)
    assert float(response.headers["x-sigma"]) >= 0


def test_a_body_over_the_limit_is_refused_before_it_is_read():
    import asyncio

    from imgdenoise.service import FORM_OVERHEAD

    app = create_app(ServiceConfig(models=["seed"], max_upload_bytes=1000))
    limit = 1000 + FORM_OVERHEAD
    sent, chunks_read = [], []

    def run(headers, chunks):
        queue = list(chunks)

        async def receive():
            chunks_read.append(1)
            body = queue.pop(0) if queue else b""
            return {"type": "http.request", "body": body, "more_body": bool(queue)}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/v1/denoise", "headers": headers, "query_string": b"",
                 "root_path": "", "scheme": "http", "server": ("test", 80), "client": ("test", 1),
                 "http_version": "1.1", "raw_path": b"/v1/denoise"}
        asyncio.run(app(scope, receive, send))

    run([(b"content-length", str(100 << 20).encode())], [b"x" * 10])  # a 100 MB body announced
    assert sent[0]["status"] == 413 and not chunks_read  # refused without reading a byte
    sent.clear()
    head = (b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    chunks_read.clear()
    run([(b"content-type", b"multipart/form-data; boundary=b")],
        [head] + [b"x" * (limit // 2)] * 10)  # chunked, no length: 5x the limit
    assert sent[0]["status"] == 413 and len(chunks_read) <= 4  # stopped soon after the limit


def test_a_request_over_the_work_limit_gets_413_naming_the_cause():
    client = TestClient(create_app(ServiceConfig(models=["unet"], max_work=0.05)))
    flat = encode_image(np.full((128, 128, 1), 0.5, np.float32), "PNG")  # 0.016 MP, a few hundred bytes
    assert post(client, flat, sigma="10", quality="fast").status_code == 200
    response = post(client, flat, sigma="10", quality="best")  # 8 passes: 0.13 megapixel-passes
    assert response.status_code == 413 and "megapixel-passes" in response.json()["detail"]


def test_a_missing_image_part_and_a_huge_model_name_get_one_line_errors(client, clean_and_noisy):
    missing = client.post("/v1/denoise", data={"sigma": "25"})
    assert missing.status_code == 422 and isinstance(missing.json()["detail"], str)
    assert "image" in missing.json()["detail"]
    huge = post(client, encode_image(clean_and_noisy[1], "PNG"), model="m" * 900_000)
    assert huge.status_code == 400 and len(huge.json()["detail"]) < 300


def test_two_image_parts_are_refused(client, clean_and_noisy):
    body = encode_image(clean_and_noisy[1], "PNG")
    response = client.post("/v1/denoise", files=[("image", ("a.png", body, "image/png")),
                                                 ("image", ("b.png", body, "image/png"))], data={"sigma": "25"})
    assert response.status_code == 400 and "exactly one image part, got 2" in response.json()["detail"]


def test_denoised_upload_keeps_its_icc_profile(client, clean_and_noisy):
    from PIL import Image as PILImage
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    PILImage.fromarray((clean_and_noisy[1][..., 0] * 255).astype(np.uint8)).convert("RGB").save(
        buffer, "JPEG", icc_profile=profile)
    response = post(client, buffer.getvalue(), name="photo.jpg", sigma="25")
    assert response.status_code == 200
    with PILImage.open(io.BytesIO(response.content)) as im:
        assert im.format == "JPEG" and im.info.get("icc_profile") == profile


def test_a_request_over_the_time_limit_gets_503_and_the_next_one_is_served(clean_and_noisy):
    """The time limit is checked between bands of rows: a tiled image stops after its first band."""
    app = create_app(ServiceConfig(models=["dncnn"], max_seconds=0.0, warm_up=False))
    client = TestClient(app)
    denoiser = app.state.pool.get("dncnn")
    original = denoiser.denoise_rows
    denoiser.denoise_rows = lambda *a, **k: original(*a, **{**k, "tile": 32, "overlap": 8})
    response = post(client, encode_image(clean_and_noisy[1], "PNG"), sigma="25")
    assert response.status_code == 503 and "longer than this service's limit" in response.json()["detail"]
    app.state.pool.config.max_seconds = 300.0
    assert post(client, encode_image(clean_and_noisy[1], "PNG"), sigma="25").status_code == 200


def test_webp_in_and_out(client, clean_and_noisy):
    from PIL import Image as PILImage

    webp = io.BytesIO()
    PILImage.fromarray((clean_and_noisy[1][..., 0] * 255).astype(np.uint8)).save(webp, "WEBP", lossless=True)
    response = post(client, webp.getvalue(), name="photo.webp", sigma="25")
    assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
    assert 'photo-denoised.webp' in response.headers["content-disposition"]
    as_webp = post(client, encode_image(clean_and_noisy[1], "PNG"), sigma="25", format="webp")
    assert as_webp.headers["content-type"] == "image/webp" and decode_image(as_webp.content).format == "WEBP"


def test_heic_from_a_phone_comes_back_as_heic(client, clean_and_noisy):
    response = post(client, encode_image(clean_and_noisy[1], "HEIF", quality=95), name="phone.heic", sigma="25")
    assert response.status_code == 200 and response.headers["content-type"] == "image/heic"
    assert decode_image(response.content).format == "HEIF"
