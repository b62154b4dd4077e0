"""The denoising web service: a JSON/HTTP API and a single web page (FastAPI on uvicorn).

    imgdenoise serve --host 127.0.0.1 --port 8000 --models unet dncnn

Endpoints:
    POST /v1/denoise   multipart ``image`` (+ ``sigma``: number 0-255 or ``auto``; ``model``;
                       ``format``: ``same`` or png/jpeg/tiff/bmp/webp/heic) -> the denoised image, in the
                       input's format and bit depth by default; headers ``X-Sigma``,
                       ``X-Sigma-Source`` (given, estimated, or not used by
                       a model that is not noise-conditional), ``X-Model``, ``X-Processing-Seconds``
    GET  /v1/models    the models this service offers, with their model cards
    GET  /healthz      readiness: 503 while the models are loaded and run once at start-up, then 200
    GET  /             the web page (every asset is served from this package: no CDN)
    GET  /docs, /openapi.json   the OpenAPI description (Swagger UI from the ``swagger-ui-bundle``
                       package, served here: the page works without internet)

Only the models named at start-up can be requested, by name: nothing in a request is ever used as
a file path. Errors are JSON ``{"detail": message}`` with a 4xx status naming the problem.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import threading
import time
from pathlib import Path

from fastapi import FastAPI, File, Form, HTTPException, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from imgdenoise import __version__
from imgdenoise.passes import DEFAULT_QUALITY, QUALITIES
from imgdenoise.service_config import ServiceConfig

WEB_DIR = Path(__file__).parent / "web"
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "BMP": "image/bmp", "TIFF": "image/tiff",
               "WEBP": "image/webp", "HEIF": "image/heic"}
SUFFIXES = {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp", "TIFF": ".tif", "WEBP": ".webp", "HEIF": ".heic"}
OUTPUT_FORMATS = {"same": None, "png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "tiff": "TIFF", "tif": "TIFF",
                  "bmp": "BMP", "webp": "WEBP", "heic": "HEIF", "heif": "HEIF"}


class ModelPool:
    """The offered models, each loaded on first use, behind a bounded queue.

    At most ``threads`` images are denoised at once; up to ``queue`` more requests wait (each at
    most ``queue_timeout`` seconds). Beyond that a request is turned away at once with 503 and a
    ``Retry-After`` estimated from recent processing times, before its image is even decoded.
    """

    def __init__(self, config: ServiceConfig):
        self.config = config
        self._loaded: dict = {}
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(config.threads)
        self._admitted = 0
        self._recent_seconds = 1.0  # moving average of one denoising, for Retry-After
        self.warming = False  # True while warm_up runs (set by the app's start-up)

    def names(self) -> list[str]:
        return list(self.config.models)

    def get(self, name: str | None):
        name = name or self.config.models[0]
        if name not in self.config.models:
            raise HTTPException(400, f"unknown model {_shown(name)}; this service offers: "
                                     f"{', '.join(self.config.models)}")
        with self._lock:
            if name not in self._loaded:
                from imgdenoise.loading import load_model

                self._loaded[name] = load_model(name, runtime=self.config.runtime)
            return self._loaded[name]

    def warm_up(self):
        """Load every offered model and denoise two small images of each kind through it (blind, the
        default quality), so that the first request does not pay for loading and tracing."""
        import numpy as np

        try:
            rng = np.random.default_rng(0)
            for name in self.config.models:
                denoiser = self.get(name)
                for shape in ((64, 64, 1), (64, 64, 3), (72, 88, 1), (72, 88, 3)):
                    denoiser.denoise(rng.random(shape, dtype=np.float32))
        finally:
            self.warming = False

    def _retry_after(self) -> str:
        waiting = max(1, self._admitted - self.config.threads + 1)
        return str(max(1, math.ceil(self._recent_seconds * waiting / self.config.threads)))

    @contextlib.contextmanager
    def admission(self):
        """Hold a place in the queue for one request (503 + Retry-After when it is full)."""
        with self._lock:
            if self._admitted >= self.config.threads + self.config.queue:
                raise HTTPException(503, "the service is busy; retry later",
                                    headers={"Retry-After": self._retry_after()})
            self._admitted += 1
        try:
            yield
        finally:
            with self._lock:
                self._admitted -= 1

    def denoise(self, denoiser, pixels, sigma, quality: str = DEFAULT_QUALITY, strength: float = 1.0):
        """Denoise on a free thread, waiting at most ``queue_timeout`` seconds for one."""
        if not self._slots.acquire(timeout=self.config.queue_timeout):
            raise HTTPException(503, f"no free worker within {self.config.queue_timeout:g} s; retry later",
                                headers={"Retry-After": self._retry_after()})
        try:
            start = time.perf_counter()
            result = _denoise_within(denoiser, pixels, sigma, self.config.max_seconds, quality=quality,
                                     strength=strength)
            self._recent_seconds = 0.8 * self._recent_seconds + 0.2 * (time.perf_counter() - start)
            return result
        finally:
            self._slots.release()


def _shown(value: str, limit: int = 80) -> str:
    """``value`` quoted for an error message, cut to ``limit`` characters (requests can be huge)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value)} characters)"


def _parse_sigma(text: str | None) -> float | None:
    if text is None or text.strip().lower() in ("", "auto"):
        return None
    try:
        sigma = float(text)
    except ValueError:
        raise HTTPException(400, f"sigma must be a number on the 0-255 scale or 'auto', got {text!r}") from None
    if not 0 <= sigma <= 255:
        raise HTTPException(400, f"sigma must be within [0, 255] (0-255 scale), got {sigma:g}")
    return sigma


def _model_summary(name: str) -> dict:
    """A model's name and the cards of its shipped networks (read from JSON; nothing is loaded)."""
    from imgdenoise.pretrained import shipped_cards, stems_of

    cards = shipped_cards(task=None)
    stems = [s for s in stems_of(name) if s in cards]
    arch = cards[stems[0]].name if stems else name
    return {"name": name, "architecture": arch, "networks": {s: cards[s].to_dict() for s in stems}}


def _denoise_within(denoiser, pixels, sigma, max_seconds: float, **kwargs):
    """``denoiser.denoise(pixels, sigma, **kwargs)``, given up with 503 once it has run ``max_seconds``
    (checked after each band of rows; a classical method runs whole)."""
    from imgdenoise.checks import check_image
    from imgdenoise.tiling import collect_rows

    if not hasattr(denoiser, "denoise_rows"):
        return denoiser.denoise(pixels, sigma, **kwargs)
    image = check_image(pixels)
    bands = _until(time.perf_counter() + max_seconds, denoiser.denoise_rows(image, sigma, **kwargs),
                   len(image), max_seconds)
    out = collect_rows(bands, image.shape)
    return out[..., 0] if pixels.ndim == 2 else out


def _until(deadline: float, bands, height: int, max_seconds: float):
    """``bands`` as they come, stopped with 503 after a band that ends past ``deadline`` short of ``height``."""
    for top, rows in bands:
        yield top, rows
        if time.perf_counter() > deadline and top + len(rows) < height:
            raise HTTPException(503, f"denoising took longer than this service's limit of {max_seconds:g} s; "
                                     "send a smaller image or ask for a faster quality")


def _check_work(denoiser, shape, quality: str, max_work: float):
    """413 when ``shape`` at ``quality`` needs more than ``max_work`` megapixel-passes (a small file can be a
    large flat image, and ``best`` runs 8-16 passes), so one request cannot hold a worker for minutes."""
    passes = denoiser.passes(shape[-1], quality).count if hasattr(denoiser, "passes") else 1
    work = shape[0] * shape[1] * passes / 1e6
    if work > max_work:
        raise HTTPException(413, f"a {shape[1]}x{shape[0]} image at quality {quality} is {work:.1f} megapixel-passes "
                                 f"({passes} network passes), over this service's limit of {max_work:g}; ask for "
                                 "quality=fast or send a smaller image")


def _parse_strength(text: str) -> float:
    from imgdenoise.checks import check_strength

    try:
        return check_strength(text)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None


def _parse_quality(text: str) -> str:
    if text not in QUALITIES:
        raise HTTPException(400, f"quality must be one of {', '.join(QUALITIES)}, got {text!r}")
    return text


def _denoise_upload(pool: ModelPool, denoiser, image, used_sigma, out_format, start: float,
                    quality: str = DEFAULT_QUALITY, strength: float = 1.0) -> Response:
    """Decode an upload, denoise it, encode the answer (see ``POST /v1/denoise``)."""
    from imgdenoise.io import ImageReadError, ImageTooLargeError, decode_image, encode_image

    config = pool.config
    data = image.file.read(config.max_upload_bytes + 1)
    if len(data) > config.max_upload_bytes:
        raise HTTPException(413, f"upload larger than the limit of {config.max_upload_bytes} bytes")
    name = Path(image.filename or "upload").name
    try:
        decoded = decode_image(data, name, max_pixels=config.max_pixels)
    except ImageReadError as error:
        status = 413 if isinstance(error, ImageTooLargeError) else 415
        raise HTTPException(status, str(error)) from None
    _check_work(denoiser.for_sigma(used_sigma), decoded.pixels.shape, quality, config.max_work)
    run = denoiser.resolve(decoded.pixels, used_sigma)  # what runs, and the level it uses
    denoiser, used_sigma = run.denoiser, run.sigma
    source = "not used by this model" if run.source == "not used" else run.source
    clean = pool.denoise(denoiser, decoded.pixels, used_sigma, quality, strength)
    fmt = out_format or decoded.format
    body = encode_image(clean, fmt, bit_depth=decoded.bit_depth, alpha=decoded.alpha, metadata=decoded.metadata)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).stem)[:100] or "image"  # safe in a header
    headers = {
        "X-Sigma": "n/a" if used_sigma is None else f"{used_sigma:.2f}", "X-Sigma-Source": source,
        "X-Model": denoiser.name, "X-Quality": quality, "X-Strength": f"{strength:g}",
        "X-Processing-Seconds": f"{time.perf_counter() - start:.3f}",
        "Content-Disposition": f'attachment; filename="{stem}-denoised{SUFFIXES[fmt]}"',
    }
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


FORM_OVERHEAD = 64 << 10  # bytes a multipart body may carry beyond the image (boundaries, other fields)


class UploadLimit:
    """ASGI middleware that refuses a request body over ``max_bytes`` with 413 before it is stored:
    at once from ``Content-Length``, or, for a chunked body, as soon as the bytes received pass the
    limit (reading stops there: the app is told the client went away, and its own answer dropped)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def _refuse(self, send):
        body = f'{{"detail": "request body larger than the limit of {self.max_bytes} bytes"}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await self._refuse(send)
        state = {"received": 0, "started": False, "refused": False}

        async def limited_receive():
            if state["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_bytes and not state["started"]:
                    state["refused"] = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if state["refused"]:
                return  # the 413 has been sent
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not state["refused"]:
                raise


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The service as an ASGI app (``uvicorn`` serves it; tests use FastAPI's test client)."""
    config = config or ServiceConfig()
    pool = ModelPool(config)
    @contextlib.asynccontextmanager
    async def lifespan(app):
        if config.warm_up:  # in the background: /healthz answers (503) meanwhile
            pool.warming = True
            threading.Thread(target=pool.warm_up, name="warm-up", daemon=True).start()
        yield

    app = FastAPI(title="imgdenoise", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Denoise images with CNNs. Sigma is on the 0-255 scale.")
    app.state.pool = pool
    app.add_middleware(UploadLimit, max_bytes=config.max_upload_bytes + FORM_OVERHEAD)
    if config.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["GET", "POST"],
                           expose_headers=["X-Sigma", "X-Sigma-Source", "X-Model", "X-Quality", "X-Strength",
                                           "X-Processing-Seconds"])

    @app.get("/healthz")
    def healthz():
        if pool.warming:
            return JSONResponse({"status": "warming up", "version": __version__}, status_code=503)
        return {"status": "ok", "version": __version__}

    @app.get("/v1/models")
    def models():
        return {"default": config.models[0], "models": [_model_summary(name) for name in config.models]}

    @app.post("/v1/denoise")
    def denoise(image: list[UploadFile] = File(..., description="one PNG, JPEG, BMP, TIFF, WebP or HEIC; 8 or 16 bit"),
                sigma: str = Form("auto", description="noise level 0-255, or 'auto' to estimate it"),
                model: str | None = Form(None, description="one of GET /v1/models (default: the first)"),
                format: str = Form("same", description="same, png, jpeg, tiff, bmp, webp or heic"),
                quality: str = Form(DEFAULT_QUALITY, description="network passes: fast (one), standard "
                                    "(two, fused; the default) or best (x8 of standard)"),
                strength: str = Form("1", description="how much noise to remove: 0 returns the input, 1 the "
                                     "default, above 1 (up to 4) removes more")):
        start = time.perf_counter()
        if len(image) != 1:  # a second part would be ignored: refuse rather than guess which one was meant
            raise HTTPException(400, f"send exactly one image part, got {len(image)}")
        image = image[0]
        used_sigma = _parse_sigma(sigma)
        quality = _parse_quality(quality)
        strength = _parse_strength(strength)
        if format.lower() not in OUTPUT_FORMATS:
            raise HTTPException(400, f"format must be same, png, jpeg, tiff, bmp, webp or heic, got {format!r}")
        denoiser = pool.get(model)
        with pool.admission():
            return _denoise_upload(pool, denoiser, image, used_sigma, OUTPUT_FORMATS[format.lower()], start, quality,
                                   strength)

    @app.exception_handler(HTTPException)
    def http_error(request, error: HTTPException):
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(request, error: RequestValidationError):
        """One line, as every other error (FastAPI's default is a list of objects)."""
        problems = [f"{'.'.join(str(p) for p in e.get('loc', [])[1:]) or 'request'}: {e.get('msg', 'invalid')}"
                    for e in error.errors()]
        return JSONResponse({"detail": "; ".join(problems)}, status_code=422)

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(WEB_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    _add_local_docs(app)
    return app


def _add_local_docs(app: FastAPI):
    """``/docs``: Swagger UI with its script and style served by this app (FastAPI's own page loads
    them from a CDN, blank without internet)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def app_from_env() -> FastAPI:
    """App factory for uvicorn worker processes (``imgdenoise serve --workers N``)."""
    return create_app(ServiceConfig.from_env())


def serve(config: ServiceConfig, host: str = "127.0.0.1", port: int = 8000, workers: int = 1):
    """Run the service with uvicorn (blocking)."""
    import uvicorn

    os.environ.update(config.to_env())
    uvicorn.run("imgdenoise.service:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="info")
