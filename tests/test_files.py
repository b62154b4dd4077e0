import os

import pytest

from imgdenoise.files import atomic_target, atomic_write_bytes, atomic_write_text, remove_stale_temporaries


def test_a_write_appears_whole_under_its_own_name_with_the_umask_mode(tmp_path):
    path = tmp_path / "sub" / "weights.npz"
    with atomic_target(path) as target:
        assert target.name == "weights.npz" and target.parent.parent == path.parent  # writers may go by suffix
        target.write_bytes(b"new")
        assert not path.exists()
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(path.parent) == ["weights.npz"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "card.json"
    path.write_text("old")
    path.chmod(0o640)
    with pytest.raises(OSError, match="disk full"):
        with atomic_target(path) as target:
            target.write_text("half")
            raise OSError("disk full")
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["card.json"]
    atomic_write_text(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode


def test_a_folder_output_replaces_the_old_folder(tmp_path):
    path = tmp_path / "model.savedmodel"
    (path / "old").mkdir(parents=True)
    with atomic_target(path) as target:
        (target / "variables").mkdir(parents=True)
    assert sorted(p.name for p in path.iterdir()) == ["variables"] and os.listdir(tmp_path) == ["model.savedmodel"]


def test_bytes_are_not_written_over_an_existing_file_unless_asked(tmp_path):
    path = tmp_path / "out.png"
    atomic_write_bytes(path, b"a")
    with pytest.raises(FileExistsError, match="out.png"):
        atomic_write_bytes(path, b"b")
    atomic_write_bytes(path, b"b", overwrite=True)
    assert path.read_bytes() == b"b"


def test_stale_temporaries_of_a_name_are_removed_and_nothing_else(tmp_path):
    (tmp_path / ".a.png.x1.tmp").write_bytes(b"killed mid-write")
    (tmp_path / ".a.png.x2.tmp").mkdir()
    (tmp_path / ".ab.png.x3.tmp").write_bytes(b"another file's")
    (tmp_path / "a.png").write_bytes(b"done")
    remove_stale_temporaries(tmp_path / "a.png")
    assert sorted(os.listdir(tmp_path)) == [".ab.png.x3.tmp", "a.png"]
