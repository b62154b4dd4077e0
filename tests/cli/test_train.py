"""imgdenoise.cli.train: resuming and distributed options."""

from imgdenoise.cli import main


def test_train_resume_needs_only_the_run_folder(tmp_path, image_folder, capsys):
    common = ["--model", "dncnn", "--model-config", "depth=3", "filters=4", "--patch-size", "16",
              "--batch-size", "2", "--steps", "2", "--precision", "float32", "--verbose", "0",
              "--out", str(tmp_path / "run")]
    assert main(["train", *common]) == 2 and "--train is required" in capsys.readouterr().err
    assert main(["train", "--train", str(tmp_path / "missing"), "--epochs", "1", *common]) == 2
    assert "missing" in capsys.readouterr().err  # bad options or data: one clear line, no traceback
    assert main(["train", "--train", str(image_folder), "--epochs", "1", *common]) == 0
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--epochs", "2", "--verbose", "0"]) == 0
    assert (tmp_path / "run" / "log.csv").read_text().count("\n") == 3  # header + 2 epochs


def test_distributed_training_without_a_cluster_description_is_a_clear_error(tmp_path, image_folder, capsys,
                                                                               monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    args = ["train", "--train", str(image_folder), "--distribute", "multi-worker", "--out", str(tmp_path / "run")]
    assert main(args) == 2 and "TF_CONFIG" in capsys.readouterr().err
