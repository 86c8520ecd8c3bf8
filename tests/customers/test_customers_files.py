"""Files kept with a customer: where they go, what they record, and what is refused."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from telora.core import clock
from telora.core.models import AuditEvent
from telora.core.services.actors import PermissionDeniedError, ServiceError
from telora.customers import services as s
from telora.customers.selectors import open_customer_file

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop_kept")]
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(customer, actor, content=PDF, name="contract.pdf", content_type="application/pdf", **kw):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return s.upload_customer_file(customer, file, actor=actor, at=clock.now(), **kw)


def test_a_file_is_stored_per_brand_and_customer_with_its_fingerprint(ann, system, media):
    row = upload(ann, system, description="Signed contract")
    assert row.file.name.startswith(f"customers/alpha/{ann.pk}/") and row.file.name.endswith("-contract.pdf")
    assert (media / row.file.name).read_bytes() == PDF
    assert (row.name, row.content_type, row.size) == ("contract.pdf", "application/pdf", len(PDF))
    assert row.sha256 == hashlib.sha256(PDF).hexdigest()
    assert row.uploaded_by_label == "job:tests" and row.uploaded_at is not None
    event = AuditEvent.objects.get(object_type="customers.customerfile", action="upload")
    assert event.changes["sha256"] == [None, row.sha256]


def test_bytes_and_open_files_work_too(ann, system, tmp_path):
    assert s.upload_customer_file(ann, PNG, name="id.png", content_type="image/png", actor=system,
                                  at=clock.now()).size == len(PNG)
    path = tmp_path / "notes.txt"
    path.write_text("called the customer\n")
    with path.open("rb") as fh:
        assert s.upload_customer_file(ann, fh, content_type="text/plain", actor=system, at=clock.now()).name \
            == "notes.txt"


def test_files_over_the_limit_are_refused(ann, system, settings, media):
    settings.TELORA_CUSTOMER_FILE_MAX_BYTES = 1024
    with pytest.raises(ServiceError, match="file: is larger than the limit of 1.0 KB") as refused:
        upload(ann, system, content=PDF + b"x" * 2000)
    assert refused.value.code == "too_large"
    assert not any(Path(media).rglob("*.pdf"))


@pytest.mark.parametrize("content, content_type, message", [
    (b"MZ\x90\x00", "application/x-msdownload", "content_type: application/x-msdownload is not accepted; upload one of"),
    (b"MZ\x90\x00", "application/pdf", "file: does not look like a PDF"),
    (PDF, "image/png", "file: does not look like a PNG image"),
    (b"\xff\xfe\x00t", "text/plain", "file: is not UTF-8 text"),
    (b"", "application/pdf", "file: is empty"),
    (PDF, "", "content_type: an unknown type is not accepted"),
])
def test_types_are_checked_against_the_allow_list_and_the_content(ann, system, content, content_type, message):
    with pytest.raises(ServiceError) as refused:
        upload(ann, system, content=content, content_type=content_type)
    assert refused.value.message.startswith(message)


def test_a_failed_save_leaves_no_file_behind(ann, system, media, monkeypatch):
    from telora.customers.services import files

    monkeypatch.setattr(files, "record_event", lambda **kw: (_ for _ in ()).throw(RuntimeError("audit down")))
    with pytest.raises(RuntimeError):
        upload(ann, system)
    assert not any(Path(media).rglob("*.pdf"))


def test_reading_needs_the_right_and_deleting_removes_the_bytes(ann, system, make_user, media,
                                                                django_capture_on_commit_callbacks):
    row = upload(ann, system)
    stranger = make_user("stranger", {})
    with pytest.raises(PermissionDeniedError):
        open_customer_file(stranger, row)
    viewer = make_user("viewer", {ann.brand: ["customers.view"]})
    with open_customer_file(viewer, row) as fh:
        assert fh.read() == PDF
    path = media / row.file.name
    with django_capture_on_commit_callbacks(execute=True):
        s.delete_customer_file(row, actor=system, at=clock.now(), reason="uploaded by mistake")
        assert path.exists()  # until the commit
    assert not path.exists()
