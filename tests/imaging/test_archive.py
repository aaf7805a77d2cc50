"""Images out of zip and tar archives, in memory: labels from folders, what is skipped, and
every refusal (paths out of the folder, links, bombs, too many entries or images)."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from app.errors import ArchiveError, ArchiveTooLargeError, TooManyImagesError, UnsafeArchiveError
from app.imaging.archive import ArchiveLimits, checked_path, is_archive, read_archive
from tests.archives import damaged_zip, encrypted_zip, tarred, zipped

LIMITS = ArchiveLimits(max_images=4, max_bytes=4 * 1024 * 1024, max_members=8)


def test_images_are_labelled_by_their_folder_in_path_order():
    archive = zipped({"set/dog/b.png": b"1", "set/cat/a.jpg": b"2", "top.png": b"3"})
    found = read_archive(archive, LIMITS)
    assert [(i.path, i.label, i.data) for i in found] == [
        ("set/cat/a.jpg", "cat", b"2"), ("set/dog/b.png", "dog", b"1"), ("top.png", None, b"3"),
    ]  # fmt: skip


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_tar_archives_of_every_compression_are_read(mode):
    found = read_archive(tarred({"cat/a.png": b"x"}, mode), LIMITS)
    assert [(i.path, i.label) for i in found] == [("cat/a.png", "cat")]
    assert is_archive(tarred({"cat/a.png": b"x"}, mode))


def test_folders_other_files_and_macos_leftovers_are_skipped():
    archive = zipped(
        {"cat/": b"", "cat/a.png": b"x", "notes.txt": b"y", "__MACOSX/cat/._a.png": b"z"}
    )
    assert [i.path for i in read_archive(archive, LIMITS)] == ["cat/a.png"]


@pytest.mark.parametrize(
    "name", ["../a.png", "cat/../../a.png", "/etc/a.png", "C:/a.png", "cat\\a.png"]
)
def test_a_path_that_leaves_the_archive_is_refused(name):
    with pytest.raises(UnsafeArchiveError):
        checked_path(name)


def test_a_zip_symlink_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("cat/a.png")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="a link"):
        read_archive(buffer.getvalue(), LIMITS)


def test_a_tar_device_is_refused():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("cat/a.png")
        info.type = tarfile.CHRTYPE
        archive.addfile(info)
    with pytest.raises(UnsafeArchiveError):
        read_archive(buffer.getvalue(), LIMITS)


def test_a_member_packed_far_tighter_than_images_pack_is_a_bomb():
    archive = zipped({"cat/a.png": b"\0" * (1024 * 1024)})  # about 1000:1, under the byte cap
    with pytest.raises(ArchiveTooLargeError, match="times"):
        read_archive(archive, LIMITS)


def test_members_that_unpack_past_the_cap_are_refused_before_they_are_read():
    archive = tarred({"cat/a.png": b"\0" * (5 * 1024 * 1024)})
    with pytest.raises(ArchiveTooLargeError, match="unpacks to more than"):
        read_archive(archive, LIMITS)


def test_too_many_entries_or_images_are_refused():
    with pytest.raises(ArchiveError, match="more than 8 entries"):
        read_archive(zipped({f"c/{i}.txt": b"x" for i in range(9)}), LIMITS)
    with pytest.raises(TooManyImagesError):
        read_archive(zipped({f"c/{i}.png": b"x" for i in range(5)}), LIMITS)


@pytest.mark.parametrize("body", [b"", b"just text", b"PK\x03\x04broken", b"\x1f\x8b\x08broken"])
def test_what_is_no_archive_is_refused(body):
    with pytest.raises(ArchiveError):
        read_archive(body, LIMITS)


@pytest.mark.parametrize(
    "body",
    [damaged_zip(), encrypted_zip(), tarred({"c/a.png": b"x" * 4096})[:-40]],
    ids=["damaged zip member", "encrypted zip member", "truncated tar.gz"],
)
def test_a_damaged_or_encrypted_member_is_refused_as_unreadable(body):
    with pytest.raises(ArchiveError, match=r"(cannot|that can) be read"):
        read_archive(body, LIMITS)
