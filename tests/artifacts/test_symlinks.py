"""A symbolic link in one project's artifact folder never reaches another project's files (or
anything outside the artifact root): reads, writes, deletes and listings stay inside the project."""
from __future__ import annotations

import os

import pytest

from mltracker.service.artifacts.local import LocalStorage
from mltracker.service.errors import MlflowError

RUN = "exp/run/artifacts"


@pytest.fixture
def storage(tmp_path):
    root = tmp_path / "artifacts"
    victim = root / "2" / RUN
    victim.mkdir(parents=True)
    (victim / "secret.txt").write_text("project 2 only")
    mine = root / "1" / RUN
    mine.mkdir(parents=True)
    (mine / "own.txt").write_text("mine")
    os.symlink(victim, mine / "dir-link")
    os.symlink(victim / "secret.txt", mine / "file-link.txt")
    os.symlink(tmp_path / "outside", mine / "out-link")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "host.txt").write_text("host file")
    os.symlink(root / "2", root / "3")  # a whole project folder that is a link to another
    os.symlink("own.txt", mine / "inner-link.txt")  # stays inside the project: still not listed
    return LocalStorage(str(root)), root


@pytest.mark.parametrize("key", [
    f"1/{RUN}/dir-link/secret.txt", f"1/{RUN}/file-link.txt", f"1/{RUN}/out-link/host.txt",
    f"3/{RUN}/secret.txt",
])
def test_reads_through_links_are_refused(storage, key):
    store, _ = storage
    with pytest.raises(MlflowError) as info:
        store.open_read(key)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("key", [f"1/{RUN}/dir-link/secret.txt", f"1/{RUN}/file-link.txt", f"3/{RUN}/secret.txt"])
def test_deletes_through_links_are_refused_and_keep_the_target(storage, key):
    store, root = storage
    with pytest.raises(MlflowError):
        store.delete(key)
    assert (root / "2" / RUN / "secret.txt").read_text() == "project 2 only"


def test_deleting_a_folder_with_links_removes_the_links_not_their_targets(storage):
    store, root = storage
    store.delete("1/exp")
    assert not (root / "1" / "exp").exists()
    assert (root / "2" / RUN / "secret.txt").read_text() == "project 2 only"
    assert (root.parent / "outside" / "host.txt").exists()


@pytest.mark.parametrize("key", [f"1/{RUN}/dir-link/planted.txt", f"1/{RUN}/out-link/planted.txt",
                                 f"3/{RUN}/planted.txt"])
def test_writes_through_links_are_refused(storage, key):
    import io

    store, root = storage
    with pytest.raises(MlflowError):
        store.write(key, io.BytesIO(b"x"))
    assert sorted(p.name for p in (root / "2" / RUN).iterdir()) == ["secret.txt"]
    assert sorted(p.name for p in (root.parent / "outside").iterdir()) == ["host.txt"]


def test_listings_do_not_follow_links(storage):
    store, _ = storage
    assert [info.path for info in store.list_dir(f"1/{RUN}")] == ["own.txt"]
    for key in (f"1/{RUN}/dir-link", f"1/{RUN}/out-link", f"3/{RUN}"):
        with pytest.raises(MlflowError):
            store.list_dir(key)


def test_plain_files_still_work(storage):
    store, _ = storage
    assert b"".join(store.open_read(f"1/{RUN}/own.txt").chunks) == b"mine"
