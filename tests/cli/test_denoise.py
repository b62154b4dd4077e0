"""imgdenoise.cli.denoise: files in, files out; bad inputs, reruns and refusals."""

import os

import numpy as np
import pytest

from imgdenoise.cli import main
from imgdenoise.io import read_image, write_image


def test_denoise_batch_goes_on_past_a_corrupt_file(tmp_path, tiny_model, gray_image, capsys):
    inputs = tmp_path / "in"
    write_image(inputs / "a.png", gray_image)
    write_image(inputs / "c.tif", gray_image, bit_depth=16)
    (inputs / "b.png").write_bytes(b"not a png at all")
    code = main(["denoise", str(inputs), "-o", str(tmp_path / "out"), "--model", str(tiny_model), "--sigma", "25"])
    err = capsys.readouterr().err
    assert code == 1
    assert "error:" in err and "b.png" in err and "cannot decode" in err
    assert err.count("error:") == 1  # one line for the one bad file
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.tif"]
    assert read_image(tmp_path / "out" / "c.tif").bit_depth == 16


@pytest.mark.parametrize("quality", ["fast", "standard", "best"])
def test_denoise_quality_is_the_apis(tmp_path, tiny_model, gray_image, quality):
    from imgdenoise import load_model

    src = write_image(tmp_path / "a.tif", gray_image, bit_depth=16)
    out = tmp_path / f"{quality}.tif"
    assert main(["denoise", str(src), "-o", str(out), "--model", str(tiny_model), "--quality", quality, "-q"]) == 0
    expected = load_model(str(tiny_model)).denoise(read_image(src).pixels, quality=quality)
    np.testing.assert_allclose(read_image(out).pixels, np.clip(expected, 0, 1), atol=1 / 65535)


def test_denoise_never_overwrites_without_asking(tmp_path, tiny_model, gray_image, capsys):
    src = write_image(tmp_path / "a.png", gray_image)
    before = src.read_bytes()
    assert main(["denoise", str(src), "-o", str(src), "--model", str(tiny_model)]) == 2  # refused before any work
    assert "replace the input" in capsys.readouterr().err
    assert src.read_bytes() == before
    assert main(["denoise", str(src), "-o", str(src), "--model", str(tiny_model), "--overwrite"]) == 0


def test_denoise_unknown_model_is_a_clear_error(tmp_path, gray_image, capsys):
    src = write_image(tmp_path / "a.png", gray_image)
    assert main(["denoise", str(src), "-o", str(tmp_path / "o.png"), "--model", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err


def test_denoise_keeps_alpha_and_bit_depth(tmp_path, tiny_model, rgb_image):
    height, width = rgb_image.shape[:2]
    alpha = np.linspace(0, 1, height * width, dtype=np.float32).reshape(height, width, 1)
    src = write_image(tmp_path / "rgba.png", rgb_image, bit_depth=16, alpha=alpha)
    assert main(["denoise", str(src), "-o", str(tmp_path / "out.png"), "--model", str(tiny_model), "-q"]) == 0
    out = read_image(tmp_path / "out.png")
    assert out.bit_depth == 16 and out.pixels.shape == rgb_image.shape
    np.testing.assert_array_equal(out.alpha, read_image(src).alpha)


def test_bad_input_corpus_through_the_cli(tmp_path, capsys):
    from tests import corpus

    cases = corpus.cases()
    for case in cases:
        (tmp_path / "in" / case.name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / case.name).write_bytes(case.data)
    code = main(["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", "seed", "--sigma", "20"])
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == sum(c.outcome != "ok" for c in cases)  # one line per bad file
    for case in cases:
        if case.outcome == "ok":
            out, original = (read_image(tmp_path / d / case.name).pixels for d in ("out", "in"))
            assert out.shape == original.shape
        else:
            assert any(case.name in line and case.outcome in line for line in lines), case.name
            assert not (tmp_path / "out" / case.name).exists()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary files left


def test_rerun_skips_finished_outputs_and_overwrite_redoes_them(tmp_path, gray_image, capsys):
    for name in ("a.png", "b.png"):
        write_image(tmp_path / "in" / name, gray_image)
    args = ["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", "seed", "--sigma", "20"]
    assert main(args) == 0
    (tmp_path / "out" / "b.png").unlink()
    stamp = (tmp_path / "out" / "a.png").stat().st_mtime_ns
    (tmp_path / "out" / ".b.png.abc123.tmp").write_bytes(b"half-written")  # left by a killed run
    assert main(args) == 0
    assert "1 skipped" in capsys.readouterr().out
    assert (tmp_path / "out" / "a.png").stat().st_mtime_ns == stamp and (tmp_path / "out" / "b.png").is_file()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert main(args + ["--overwrite"]) == 0
    assert (tmp_path / "out" / "a.png").stat().st_mtime_ns != stamp


def test_disk_full_and_unwritable_outputs_are_reported_per_file(tmp_path, gray_image, capsys, monkeypatch):
    import errno

    import imgdenoise.io

    for name in ("a.png", "full.png", "c.png"):
        write_image(tmp_path / "in" / name, gray_image)
    real_encode = imgdenoise.io._encode

    def encode(target, fmt, array, *rest):
        if ".full.png." in str(target):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_encode(target, fmt, array, *rest)

    monkeypatch.setattr(imgdenoise.io, "_encode", encode)
    code = main(["denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--model", "seed", "--sigma", "20"])
    err = capsys.readouterr().err
    assert code == 1 and "full.png" in err and "No space left on device" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "c.png"]  # no partial file
    (tmp_path / "blocked").write_text("a file where a folder should be")
    code = main(["denoise", str(tmp_path / "in" / "a.png"), "-o", str(tmp_path / "blocked" / "a.png"),
                 "--model", "seed"])
    assert code == 2 and "blocked" in capsys.readouterr().err  # found before any work (issue 16, item 12)


def test_batch_killed_at_any_moment_ends_complete_after_a_rerun(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    rng = np.random.default_rng(0)
    for i in range(40):
        write_image(tmp_path / "in" / f"{i:02d}.png", rng.random((96, 128)), bit_depth=16)
    command = [sys.executable, "-m", "imgdenoise", "denoise", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
               "--model", "seed", "--sigma", "20", "--images-per-batch", "2", "-q"]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    killed = 0
    for kill_after in (1, 9, 21):  # outputs present when the process is killed
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and process.poll() is None:
            done = list((tmp_path / "out").glob("*.png")) if (tmp_path / "out").is_dir() else []
            if len(done) >= kill_after:
                break
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        killed += process.wait() == -signal.SIGKILL
    assert killed >= 2  # the kills did land mid-batch
    assert subprocess.run(command, env=env, capture_output=True).returncode == 0
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == [f"{i:02d}.png" for i in range(40)]  # nothing else, no temporaries
    for path in outputs:
        assert read_image(path).pixels.shape == (96, 128, 1)  # every output decodes completely


def test_denoise_strength_zero_keeps_the_input_and_bad_strengths_are_refused(tmp_path, gray_image, capsys):
    noisy = np.clip(gray_image + np.random.default_rng(0).normal(0, 0.1, gray_image.shape), 0, 1)
    src = write_image(tmp_path / "a.png", noisy)
    assert main(["denoise", str(src), "-o", str(tmp_path / "zero.png"), "--model", "seed", "--strength", "0"]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "zero.png").pixels, read_image(src).pixels)
    with pytest.raises(SystemExit):
        main(["denoise", str(src), "-o", str(tmp_path / "x.png"), "--strength", "-1"])
    assert "strength must be within [0, 4]" in capsys.readouterr().err
    assert main(["denoise", str(src), "-o", str(tmp_path / "y.png"), "--model", "seed", "--strength", "2"]) == 2
    assert "needs a noise-conditional model" in capsys.readouterr().err


def test_names_the_terminal_cannot_encode_are_printed_escaped(tmp_path, gray_image):
    import os
    import subprocess
    import sys

    src = write_image(tmp_path / "caf\u00e9.png", gray_image)
    env = {**os.environ, "PYTHONIOENCODING": "ascii:strict", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "imgdenoise", "info", "--model", "seed", str(src)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "caf\\xe9.png: 45x37 gray" in result.stdout and "UnicodeEncodeError" not in result.stderr


def test_two_inputs_with_the_same_name_into_one_folder_are_refused_before_any_work(tmp_path, gray_image, capsys):
    for folder in ("a", "b"):
        write_image(tmp_path / folder / "same.png", gray_image)
    out = tmp_path / "out"
    assert main(["denoise", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out), "--model", "seed"]) == 2
    err = capsys.readouterr().err
    assert "same.png" in err and "would write the same output" in err
    assert not out.exists() or not any(out.iterdir())  # nothing was written
    assert main(["denoise", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out), "--model", "seed",
                 "--overwrite"]) == 2


def test_an_output_that_cannot_be_written_is_refused_before_the_network_runs(tmp_path, gray_image, capsys,
                                                                              monkeypatch):
    import imgdenoise.batch

    monkeypatch.setattr(imgdenoise.batch, "denoise_files", lambda *a, **k: pytest.fail("the network ran"))
    src = write_image(tmp_path / "a.png", gray_image)
    (tmp_path / "file").write_text("not a folder")
    assert main(["denoise", str(src), "-o", str(tmp_path / "file" / "out.png"), "--model", "seed"]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into read-only folders")
def test_a_read_only_output_folder_is_refused_before_the_network_runs(tmp_path, gray_image, capsys, monkeypatch):
    import imgdenoise.batch

    monkeypatch.setattr(imgdenoise.batch, "denoise_files", lambda *a, **k: pytest.fail("the network ran"))
    src = write_image(tmp_path / "a.png", gray_image)
    (tmp_path / "ro").mkdir(mode=0o555)
    assert main(["denoise", str(src), "-o", str(tmp_path / "ro" / "out.png"), "--model", "seed"]) == 2
    assert "permission denied" in capsys.readouterr().err


def test_several_inputs_into_a_file_name_are_refused(tmp_path, gray_image, capsys):
    for name in ("a.png", "b.png"):
        write_image(tmp_path / name, gray_image)
    out = tmp_path / "x.png"
    assert main(["denoise", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out), "--model", "seed"]) == 2
    assert "need an output folder" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("option", [["--ray-workers", "4"], ["--cpus-per-worker", "2"], ["--ray-address", "auto"]])
def test_an_option_the_local_engine_cannot_honour_is_refused(tmp_path, gray_image, option, capsys):
    write_image(tmp_path / "a.png", gray_image)
    assert main(["denoise", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model", "seed"] + option) == 2
    assert f"{option[0]} needs --engine ray" in capsys.readouterr().err and not (tmp_path / "b.png").exists()


def test_a_camera_raw_file_is_denoised_into_a_16_bit_tiff(tmp_path, capsys):
    from tests.test_io import write_dng

    (tmp_path / "in").mkdir()
    raw = write_dng(tmp_path / "in" / "IMG_0001.dng")
    assert main(["denoise", str(raw), "-o", str(tmp_path / "out"), "--model", "seed", "--sigma", "10"]) == 0
    result = read_image(tmp_path / "out" / "IMG_0001.tif")
    assert result.bit_depth == 16 and result.pixels.shape == (48, 64, 3)
    assert main(["denoise", str(raw), "-o", str(tmp_path / "out.dng"), "--model", "seed"]) == 2
    assert "RAW is read, not written" in capsys.readouterr().err
