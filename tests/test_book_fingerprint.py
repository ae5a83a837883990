"""The book's rebuild check: a change to code or to a data file a chapter reads re-executes the chapters."""
import shutil

from explainers import book_extension
from explainers.hardware import records

HERE = book_extension.HERE


def test_every_data_file_a_chapter_reads_is_counted():
    counted = {p.relative_to(HERE).as_posix() for p in book_extension.package_data_files()}
    assert "lm/data/corpus.json" in counted
    assert {f"hardware/records/{p.name}" for p in records.RECORDS_DIR.glob("*.json")} <= counted
    assert "player.js" in counted and "static/explainers.css" in counted
    assert not any(name.endswith(".py") or "__pycache__" in name for name in counted)


def test_adding_or_removing_a_record_changes_the_fingerprint():
    shipped = sorted(records.RECORDS_DIR.glob("*.json"))
    assert shipped, "no record ships to copy"
    before = book_extension.library_fingerprint()
    added = records.RECORDS_DIR / "1999-12-31-fingerprint-test.json"
    try:
        shutil.copy(shipped[0], added)
        with_record = book_extension.library_fingerprint()
        assert with_record != before
        assert len(records.load_records()) == len(shipped) + 1  # the build would show it
    finally:
        added.unlink(missing_ok=True)
    assert book_extension.library_fingerprint() == before


def test_editing_a_data_file_changes_the_fingerprint():
    readme = records.RECORDS_DIR / "README.md"
    text = readme.read_text()
    before = book_extension.library_fingerprint()
    try:
        readme.write_text(text + "\n")
        assert book_extension.library_fingerprint() != before
    finally:
        readme.write_text(text)
