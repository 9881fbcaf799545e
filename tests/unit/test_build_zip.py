import hashlib
import zipfile

import pytest

from scripts import build_zip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    first = build_zip.build(tmp_path_factory.mktemp("a"))
    second = build_zip.build(tmp_path_factory.mktemp("b"))
    return first, second


def test_two_builds_are_byte_identical(built):
    (_, digest_a), (path_b, digest_b) = built
    assert digest_a == digest_b == hashlib.sha256(path_b.read_bytes()).hexdigest()


def test_entries_sorted_with_fixed_time_and_mode(built):
    with zipfile.ZipFile(built[0][0]) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {build_zip.FIXED_TIME}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_holds_our_package_and_dependencies_but_not_boto3(built):
    with zipfile.ZipFile(built[0][0]) as archive:
        names = archive.namelist()
    assert "due/ses_event_processing/handler.py" in names
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert not any(n.split("/")[0] in ("boto3", "botocore") for n in names)
    # the local emulator is for this machine only: never deployed
    assert not any(n.split("/")[0] in ("due_local", "tests", "scripts", "moto") for n in names)
    assert not any(n.endswith(".pyc") or "__pycache__" in n for n in names)


def test_changing_the_code_changes_the_digest(built, tmp_path, monkeypatch):
    source = tmp_path / "repo"
    (source / "src" / "due").mkdir(parents=True)
    (source / "src" / "due" / "__init__.py").write_text("# changed\n")
    (source / "build").mkdir()
    monkeypatch.setattr(build_zip, "REPO", source)
    monkeypatch.setattr(build_zip, "install_dependencies", lambda _build_dir: source / "build")
    _, digest = build_zip.build(tmp_path / "out")
    assert digest != built[0][1]
