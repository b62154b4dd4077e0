"""imgdenoise.cli (the entry point): errors, interrupts, imports and extras."""

import pytest

from imgdenoise.cli import main
from imgdenoise.io import write_image


def test_ctrl_c_prints_one_line_and_exits_130(tmp_path, gray_image, monkeypatch, capsys):
    import imgdenoise.batch

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
        yield  # a generator, as denoise_files

    monkeypatch.setattr(imgdenoise.batch, "denoise_files", interrupted)
    src = write_image(tmp_path / "a.png", gray_image)
    assert main(["denoise", str(src), "-o", str(tmp_path / "out.png"), "--model", "seed"]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command, old, new", [
    (["denoise", "a.png", "-o", "b.png"], "--workers", "--ray-workers"),
    (["denoise", "a.png", "-o", "b.png"], "--batch-size", "--images-per-batch"),
    (["train"], "--workers", "--data-threads"),
    (["serve"], "--workers", "--processes"),
])
def test_an_old_option_spelling_is_refused_naming_the_new_one(command, old, new, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(command + [old, "2"])
    assert exit_info.value.code == 2 and f"{old} was renamed: use {new}" in capsys.readouterr().err


def test_only_the_command_that_runs_is_imported():
    import subprocess
    import sys

    code = ("import sys; from imgdenoise.cli import build_parser; build_parser('denoise').parse_args("
            "['denoise', 'a.png', '-o', 'b.png']); print(sorted(m for m in ('keras', 'tensorflow', "
            "'imgdenoise.cli.train', 'imgdenoise.train') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # denoising's options need neither Keras nor training


def test_a_library_of_a_missing_extra_is_named_with_its_extra(tmp_path, gray_image, capsys, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "bm3d" else find_spec(name, *a))
    write_image(tmp_path / "a.png", gray_image)
    assert main(["denoise", str(tmp_path / "a.png"), "-o", str(tmp_path / "b.png"), "--model", "bm3d"]) == 2
    assert "bm3d is not installed: pip install 'imgdenoise[classical]'" in capsys.readouterr().err


def test_every_missing_library_is_named_with_an_extra_that_installs_it():
    import re
    from pathlib import Path

    import tomllib

    from imgdenoise.cli import EXTRA_OF

    extras = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    distribution = {"skimage": "scikit-image", "multipart": "python-multipart", "tensorflow": "tensorflow-cpu"}
    for module, extra in EXTRA_OF.items():
        names = {re.split(r"[\[<>=;! ]", requirement, maxsplit=1)[0] for requirement in extras[extra]}
        assert distribution.get(module, module) in names, (module, extra)


def test_no_tensorflow_lines_reach_the_terminal_of_a_keras_command(tmp_path):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "imgdenoise.cli", "export", "seed", "--format", "onnx", "-o",
                           str(tmp_path / "seed.onnx")], capture_output=True, text=True, check=True)
    assert (tmp_path / "seed.onnx").is_file()
    assert not [line for line in done.stderr.splitlines() if "absl" in line or "oneDNN" in line or "Warning" in line]
