"""``claim_output``: free paths pass, taken ones are refused without force and removed with it, a folder is
never removed for a file output (nor a file for a folder), and force never removes the working directory."""

from __future__ import annotations

import pytest

from robo_flows.commands.output import claim_output


def test_absent_paths_and_empty_folders_are_free(tmp_path):
    claim_output(tmp_path / "new", force=False, kind="dir")
    claim_output(tmp_path / "new.hdf5", force=False, kind="file")
    (tmp_path / "empty").mkdir()
    claim_output(tmp_path / "empty", force=False, kind="dir")
    assert (tmp_path / "empty").is_dir() and not (tmp_path / "new").exists()


def test_taken_paths_are_refused_without_force_and_removed_with_it(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"x")
    demos = tmp_path / "demos.hdf5"
    demos.write_bytes(b"x")
    for path, kind in ((run, "dir"), (demos, "file"), (run, None), (demos, None)):
        with pytest.raises(FileExistsError, match="--force"):
            claim_output(path, force=False, kind=kind)
        assert path.exists()
    claim_output(run, force=True, kind="dir")
    claim_output(demos, force=True, kind="file")
    assert not run.exists() and not demos.exists()


def test_the_kind_of_an_existing_path_must_match_even_with_force(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(IsADirectoryError, match="is a folder"):
        claim_output(folder, force=True, kind="file")
    file = tmp_path / "results"
    file.write_text("mine")
    with pytest.raises(NotADirectoryError, match="is a file"):
        claim_output(file, force=True, kind="dir")
    assert (folder / "keep.txt").read_text() == "mine" and file.read_text() == "mine"


def test_a_file_output_needs_its_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        claim_output(tmp_path / "missing" / "demos.hdf5", force=False, kind="file")


def test_force_never_removes_the_working_directory_or_a_parent(tmp_path, monkeypatch):
    work = tmp_path / "project" / "runs"
    work.mkdir(parents=True)
    (work / "x").write_text("x")
    monkeypatch.chdir(work)
    for path in (work, tmp_path / "project", tmp_path):
        with pytest.raises(PermissionError, match="working directory"):
            claim_output(path, force=True, kind="dir")
    assert (work / "x").exists()
