"""Batch denoising on a local Ray instance (2 CPUs)."""

import numpy as np
import pytest

from imgdenoise.io import read_image, write_image

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray")
    rng = np.random.default_rng(0)
    for i in range(6):
        write_image(root / "in" / f"{i}.png", rng.random((40, 48)))
    (root / "in" / "bad.png").write_bytes(b"not an image")
    return root


def test_ray_engine_denoises_like_the_local_path_and_restarts(folder):
    from imgdenoise.distributed import denoise_with_ray
    from imgdenoise.jobs import plan_jobs
    from imgdenoise.loading import load_model

    out = folder / "out"
    records = denoise_with_ray("seed", plan_jobs([folder / "in"], out, uris=True).jobs, sigma=20.0, workers=2,
                               batch_size=2)
    statuses = {r["source"].rsplit("/", 1)[-1]: r["status"] for r in records}
    assert statuses.pop("bad.png") == "error" and set(statuses.values()) == {"ok"} and len(statuses) == 6
    bad = next(r for r in records if str(r["source"]).endswith("bad.png"))
    assert "bad.png" in bad["message"] and "cannot decode PNG" in bad["message"]  # as the local engine says
    assert len({r["worker"] for r in records}) <= 2 and {int(r["loads"]) for r in records} == {1}
    expected = np.clip(load_model("seed").denoise(read_image(folder / "in" / "3.png").pixels, 20.0), 0, 1)
    np.testing.assert_allclose(read_image(out / "3.png").pixels, expected, atol=1 / 255 + 1e-6)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries
    (out / "2.png").unlink()  # as if the job had stopped before this file
    plan = plan_jobs([folder / "in"], out, uris=True)
    assert len(plan.skipped) == 5 and [s.rsplit("/", 1)[-1] for s, _ in plan.jobs] == ["2.png", "bad.png"]
    again = denoise_with_ray("seed", plan.jobs, sigma=20.0, workers=2)
    assert sorted(r["source"].rsplit("/", 1)[-1] for r in again) == ["2.png", "bad.png"]  # only what is missing
    assert (out / "2.png").is_file()


def test_ray_workers_honour_strength_and_tiling(folder):
    from imgdenoise.distributed import denoise_with_ray
    from imgdenoise.loading import load_model

    out = folder / "out-options"
    source = folder / "in" / "1.png"
    denoise_with_ray("seed", [(source, out / "1.png")], sigma=20.0, workers=1, strength=0.5, tile=16, overlap=8)
    pixels = read_image(source).pixels
    expected = load_model("seed").denoise(pixels, 20.0, strength=0.5, tile=16, overlap=8)
    np.testing.assert_allclose(read_image(out / "1.png").pixels, expected, atol=1 / 255 + 1e-6)
    assert not np.allclose(expected, load_model("seed").denoise(pixels, 20.0), atol=0.01)  # strength mattered
    assert sorted(p.name for p in out.iterdir()) == ["1.png"]
