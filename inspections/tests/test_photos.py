"""Photos of checklist items are stored as files (SHA-256, size, name, who, when), sent as multipart by the
phone (a data URL still accepted), and served only to those who may see the visit."""
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core.models import AuditLog
from inspections.models import FindingPhoto

URL = "/api/v1/inspections/"


def jpeg_bytes(color=(200, 30, 30)):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def recorded(api, users, world, settings, tmp_path):
    """A one-off visit today with one failed finding (client id f-1)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    r = api(users["leader_s1"]).post(URL, {
        "street": "S1", "subject": world["subjects"][0].pk, "date": timezone.localdate().isoformat(),
        "officers": [world["o1"].pk, world["o2"].pk], "kind": "one_off", "one_off_reason": "complaint"},
        format="json")
    visit = r.json()["id"]
    r = api(users["officer_s1"]).post(f"{URL}{visit}/findings/", {
        "client_id": "f-1", "item": "F1", "result": "fail", "rectification": "on_the_spot"}, format="json")
    assert r.status_code == 201
    return visit


@pytest.mark.django_db
def test_multipart_photo_is_stored_as_the_file_with_its_facts(api, users, recorded):
    content = jpeg_bytes()
    officer = api(users["officer_s1"])
    upload = SimpleUploadedFile("shop.jpg", content, content_type="image/jpeg")
    r = officer.post(f"{URL}{recorded}/photos/", {"client_id": "p-1", "finding": "f-1", "image": upload},
                     format="multipart")
    assert r.status_code == 201, r.content
    photo = FindingPhoto.objects.get()
    assert photo.sha256 == hashlib.sha256(content).hexdigest() == r.json()["sha256"]
    assert (photo.size, photo.name, photo.content_type) == (len(content), "shop.jpg", "image/jpeg")
    assert photo.uploaded_by == users["officer_s1"] and photo.uploaded_at
    assert photo.image.name.startswith("inspections/photos/") and photo.image.read() == content
    assert AuditLog.objects.filter(action="inspections.photo_added", changes__sha256=[None, photo.sha256]).exists()
    # A resend (same client id) creates nothing; the visit lists the photo with its URL.
    again = SimpleUploadedFile("shop.jpg", content, content_type="image/jpeg")
    assert officer.post(f"{URL}{recorded}/photos/", {"client_id": "p-1", "finding": "f-1", "image": again},
                        format="multipart").status_code == 200
    assert FindingPhoto.objects.count() == 1
    listed = officer.get(f"{URL}{recorded}/").json()["findings"][0]["photos"][0]
    assert listed["url"] == f"/inspections/{recorded}/photos/{photo.pk}/" and listed["size"] == len(content)


@pytest.mark.django_db
def test_data_url_still_accepted_and_bad_files_refused(api, users, recorded):
    import base64

    officer = api(users["officer_s1"])
    data_url = "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes((0, 0, 255))).decode()
    assert officer.post(f"{URL}{recorded}/photos/", {"client_id": "p-2", "finding": "f-1", "image": data_url},
                        format="json").status_code == 201
    fake = SimpleUploadedFile("x.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
    r = officer.post(f"{URL}{recorded}/photos/", {"client_id": "p-3", "finding": "f-1", "image": fake},
                     format="multipart")
    assert r.status_code == 400 and "image" in r.json()
    r = officer.post(f"{URL}{recorded}/photos/", {"client_id": "p-4", "finding": "f-1"}, format="multipart")
    assert r.status_code == 400 and "image" in r.json()
    r = officer.post(f"{URL}{recorded}/photos/", {"client_id": "p-5", "finding": "f-1", "image": 5}, format="json")
    assert r.status_code == 400 and "image" in r.json()
    assert FindingPhoto.objects.count() == 1


@pytest.mark.django_db
def test_photo_files_served_only_to_those_who_may_see_the_visit(api, users, recorded, logged_in, client):
    content = jpeg_bytes()
    api(users["officer_s1"]).post(f"{URL}{recorded}/photos/", {
        "client_id": "p-1", "finding": "f-1", "image": SimpleUploadedFile("a.jpg", content)}, format="multipart")
    photo = FindingPhoto.objects.get()
    url = f"/inspections/{recorded}/photos/{photo.pk}/"
    for who in ("officer_s1", "leader_s1", "bureau", "dispatcher"):
        r = logged_in(who).get(url)
        assert r.status_code == 200 and b"".join(r.streaming_content) == content, who
        assert r["Content-Type"] == "image/jpeg"
    for who in ("leader_s2", "nobody", "platform_s2"):
        assert logged_in(who).get(url).status_code in (403, 404), who
    assert client.get(url).status_code == 302  # anonymous: to the login page
    # Another visit's id with this photo's id: not found.
    assert logged_in("leader_s1").get(f"/inspections/{recorded + 1}/photos/{photo.pk}/").status_code == 404
    # Nobody else records photos on this visit.
    other = SimpleUploadedFile("b.jpg", content)
    assert api(users["leader_s2"]).post(f"{URL}{recorded}/photos/", {
        "client_id": "p-9", "finding": "f-1", "image": other}, format="multipart").status_code == 404
    assert api(users["bureau"]).post(f"{URL}{recorded}/photos/", {
        "client_id": "p-9", "finding": "f-1", "image": SimpleUploadedFile("b.jpg", content)},
        format="multipart").status_code == 403
