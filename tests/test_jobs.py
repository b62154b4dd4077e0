"""The plan of a file job: outputs, skips, refusals and temporaries, the same for every engine."""

import pytest

from imgdenoise.jobs import expand_sources, output_for, plan_jobs


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.png", "b.jpg", "c.dng"):
        (folder / name).write_bytes(b"x")  # planning never decodes
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_one_input_may_name_its_output_file_and_a_folder_maps_each_name(tmp_path, photos):
    single = plan_jobs([photos / "a.png"], tmp_path / "clean.png")
    assert single.jobs == [(str(photos / "a.png"), str(tmp_path / "clean.png"))] and not single.many
    folder = plan_jobs([photos], tmp_path / "out")
    assert [t.rsplit("/", 1)[-1] for _, t in folder.jobs] == ["a.png", "b.jpg", "c.tif"]  # RAW -> 16-bit TIFF
    assert folder.many and folder.total == 3


def test_existing_outputs_are_skipped_and_stale_temporaries_removed(tmp_path, photos):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.png").write_bytes(b"done")
    (out / ".b.jpg.abc123.tmp").write_bytes(b"left by a killed run")
    (out / ".a.png.def456.tmp").mkdir()  # killed after a.png's rename, before its staging folder was removed
    plan = plan_jobs([photos], out)
    assert [t.rsplit("/", 1)[-1] for _, t in plan.skipped] == ["a.png"]
    assert [t.rsplit("/", 1)[-1] for _, t in plan.jobs] == ["b.jpg", "c.tif"]
    assert sorted(p.name for p in out.iterdir()) == ["a.png"]
    assert len(plan_jobs([photos], out, overwrite=True).jobs) == 3


@pytest.mark.parametrize("inputs, output, message", [
    (["{in}/a.png"], "{in}/a.png", "would replace the input"),
    (["{in}", "{in}/a.png"], "{tmp}/out", "would write the same output"),
    (["{in}"], "{tmp}/clean.png", "several inputs need an output folder"),
    (["{in}/a.png"], "{tmp}/clean.dng", "camera RAW is read, not written"),
    (["{in}/a.png"], "s3://bucket/clean", "Ray engine only"),
    (["{in}/*.webp"], "{tmp}/out", "no file matches"),
])
def test_plans_that_would_fail_or_lose_a_result_are_refused_before_any_work(tmp_path, photos, inputs, output,
                                                                            message):
    fill = dict(tmp=tmp_path, **{"in": photos})
    with pytest.raises((ValueError, FileNotFoundError), match=message):
        plan_jobs([i.format(**fill) for i in inputs], output.format(**fill))
    assert not (tmp_path / "out").exists()


def test_uris_are_expanded_and_mapped_under_a_prefix(photos):
    sources = expand_sources([f"file://{photos}"])
    assert [s.rsplit("/", 1)[-1] for s in sources] == ["a.png", "b.jpg", "c.dng"]
    assert output_for("s3://bucket/raw/a.tif", "s3://bucket/clean/") == "s3://bucket/clean/a.tif"
    assert output_for("s3://bucket/raw/a.tif", "s3://bucket/clean", many=False) == "s3://bucket/clean/a.tif"
