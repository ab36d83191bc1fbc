"""Event photos: checked by content and size, stored under MEDIA_ROOT, served only to those who may see the
event; report photos at intake, result photos at resolve (one transaction), Open311 media_url links."""

import base64
import hashlib

import pytest
from django.utils import translation
from PIL import Image

from command_center import photos
from command_center.models import Event, EventPhoto, TimelineEntry
from command_center.services import intake, transitions
from command_center.services import photos as photo_writes
from command_center.testing import S1_POINT, image_bytes, upload
from core.models import AuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def intake_form(**extra):
    lat, lng = S1_POINT
    return {"source": "citizen", "problem_type": "ZDJY", "description": "人行道上有流动摊贩", "lat": lat, "lng": lng,
            **extra}


def on_site(users, officers, event):
    o = users["officer_s1"]
    event = transitions.dispatch(users["dispatcher"], event, officers["s1"])
    event = transitions.accept(o, event)
    return transitions.arrive(o, event)


# --- checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,mime,ext", [("JPEG", "image/jpeg", "jpg"), ("PNG", "image/png", "png"),
                                          ("WEBP", "image/webp", "webp")])
def test_accepted_formats_are_recognised_by_content(fmt, mime, ext):
    checked = photos.check_upload(upload(f"x.{ext}", fmt=fmt, size=(10, 7)))
    assert (checked.content_type, checked.extension, checked.width, checked.height) == (mime, ext, 10, 7)
    assert len(checked.sha256) == 64


def test_content_decides_not_the_name():
    # PNG content named .jpg is stored as what it is.
    assert photos.check_upload(upload("camera.jpg", fmt="PNG")).content_type == "image/png"
    # A text file named .jpg, a GIF, and a PNG named .svg are all refused.
    for bad in (upload("fake.jpg", content=b"<html><script>alert(1)</script></html>"),
                upload("anim.gif", fmt="GIF"), upload("vector.svg", fmt="PNG"), upload("x.exe", fmt="PNG")):
        with pytest.raises(ValueError):
            photos.check_upload(bad)


def test_truncated_empty_too_big_and_too_many_pixels(settings):
    with pytest.raises(ValueError, match="有效"):
        photos.check_upload(upload("t.png", content=image_bytes()[:40]))
    with pytest.raises(ValueError, match="为空"):
        photos.check_upload(upload("e.png", content=b""))
    settings.EVENT_PHOTO_MAX_BYTES = 100
    with pytest.raises(ValueError, match="过大"):
        photos.check_upload(upload("big.png", size=(200, 200), color=None))
    settings.EVENT_PHOTO_MAX_BYTES = 8 * 1024 * 1024
    settings.EVENT_PHOTO_MAX_PIXELS = 1000
    with pytest.raises(ValueError, match="尺寸"):
        photos.check_upload(upload("wide.png", size=(100, 100)))



def test_refusals_keep_this_apis_words(settings):
    # core.files checks the image; the messages are this API's (its limits named), as before.
    settings.EVENT_PHOTO_MAX_BYTES = 1024 * 1024
    settings.EVENT_PHOTO_MAX_PIXELS = 2_000_000
    with translation.override("zh-hans"):
        cases = [(upload("big.png", content=b"x" * (1024 * 1024 + 1)), "文件过大（上限 1 MB）。"),
                 (upload("x.svg"), "只支持 JPEG、PNG 或 WebP 图片。"),
                 (upload("t.png", content=b"<svg/>"), "不是有效的 JPEG、PNG 或 WebP 图片。"),
                 (upload("e.png", content=b""), "文件为空。"),
                 (upload("w.png", size=(2000, 1001)), "图片尺寸过大（上限 2 百万像素）。"),
                 # Uploads only: a string is no data URL here.
                 ("data:image/png;base64," + base64.b64encode(image_bytes()).decode(), "不是有效的 JPEG、PNG 或 WebP 图片。")]
        for source, message in cases:
            with pytest.raises(photos.Refused) as caught:
                photos.check_upload(source)
            assert str(caught.value) == message
    checked = photos.check_upload(upload("cam.png"))
    assert checked.original_name == "cam.png" and checked.sha256 == hashlib.sha256(image_bytes()).hexdigest()


def test_decompression_bombs_are_refused_before_decoding(monkeypatch):
    # Pillow's own guard (far above our limit in real use) answers with the same message.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(photos.Refused, match="尺寸"):
        photos.check_upload(upload("bomb.png", size=(30, 30)))  # over twice Pillow's limit: its error


# --- intake -----------------------------------------------------------------------------------

def test_intake_with_photos_stores_lists_audits_and_serves_them(api, users, catalog, media_root):
    client = api(users["platform"])
    r = client.post("/api/v1/events/", {**intake_form(), "photos": [upload("a.png"), upload("b.jpg", fmt="JPEG")]},
                    format="multipart")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert [p["kind"] for p in body["photos"]] == ["report", "report"]
    assert {p["content_type"] for p in body["photos"]} == {"image/png", "image/jpeg"}
    assert all(p["uploaded_by"] == "platform" and p["at"] for p in body["photos"])
    assert len(stored_files(media_root)) == 2
    event = Event.objects.get(pk=body["id"])
    line = TimelineEntry.objects.get(event=event, action="photo")
    assert line.data["kind"] == "report" and len(line.data["photos"]) == 2
    assert AuditLog.objects.filter(action="event.photo_added", object_id=str(event.pk)).count() == 1
    # The file comes back, to someone of the event's areas, with safe headers.
    url = body["photos"][0]["url"]
    assert url.startswith("http://testserver/api/v1/events/")
    got = api(users["leader_s1"]).get(url)
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert got["X-Content-Type-Options"] == "nosniff"
    assert b"".join(got.streaming_content) == EventPhoto.objects.get(pk=body["photos"][0]["id"]).file.read()


def test_intake_with_a_bad_photo_writes_nothing(api, users, catalog, media_root):
    client = api(users["platform"])
    r = client.post("/api/v1/events/", {**intake_form(), "photos": [upload("ok.png"), upload("no.jpg", content=b"GIF89a..")]},
                    format="multipart")
    assert r.status_code == 400
    assert list(r.json()) == ["photos"] and "no.jpg" in r.json()["photos"][0]
    assert not Event.objects.exists() and not EventPhoto.objects.exists()
    assert stored_files(media_root) == []


def test_intake_rollback_removes_files_already_written(users, catalog, media_root, monkeypatch):
    def boom(*args, **kwargs):
        assert len(stored_files(media_root)) == 1  # the file is on disk when the transaction fails
        raise RuntimeError("audit store down")

    monkeypatch.setattr(photo_writes, "_record", boom)
    with pytest.raises(RuntimeError):
        intake.intake_event(users["platform"], intake_form(), photos=[upload("a.png")])
    assert not Event.objects.exists() and stored_files(media_root) == []


def test_idempotent_retry_adds_no_photos(api, users, catalog):
    client = api(users["platform"])
    first = client.post("/api/v1/events/", {**intake_form(), "photos": [upload()]}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/events/", {**intake_form(), "photos": [upload()]}, format="multipart",
                        HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert EventPhoto.objects.count() == 1


def test_too_big_upload_is_a_field_error(api, users, catalog, settings):
    settings.EVENT_PHOTO_MAX_BYTES = 200
    r = api(users["platform"]).post("/api/v1/events/", {**intake_form(), "photos": [upload(size=(300, 300), color=None)]},
                                    format="multipart")
    assert r.status_code == 400 and "photos" in r.json()


# --- resolve ----------------------------------------------------------------------------------

def test_resolve_with_photos_in_one_transaction(api, users, officers, report, media_root):
    event = on_site(users, officers, report())
    officer = api(users["officer_s1"])
    # A bad photo: nothing happens, the event stays on site.
    r = officer.post(f"/api/v1/events/{event.pk}/resolve/", {"result": "已劝离", "photos": [upload("x.png", content=b"nope")]},
                     format="multipart", HTTP_IF_MATCH=event.etag)
    assert r.status_code == 400 and "photos" in r.json()
    event.refresh_from_db()
    assert event.status == "on_site" and not EventPhoto.objects.exists() and stored_files(media_root) == []
    r = officer.post(f"/api/v1/events/{event.pk}/resolve/", {"result": "已劝离", "photos": [upload("after.webp", fmt="WEBP")]},
                     format="multipart", HTTP_IF_MATCH=event.etag)
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "resolved" and [p["kind"] for p in body["photos"]] == ["result"]
    actions = [t["action"] for t in body["timeline"]]
    assert actions[-2:] == ["resolve", "photo"]


def test_resolve_still_takes_json_without_photos(api, users, officers, report):
    event = on_site(users, officers, report())
    r = api(users["officer_s1"]).post(f"/api/v1/events/{event.pk}/resolve/", {"result": "已处理"}, format="json",
                                      HTTP_IF_MATCH=event.etag)
    assert r.status_code == 200 and r.json()["photos"] == []


def test_resolve_refused_keeps_photos_out(api, users, officers, report, media_root):
    event = on_site(users, officers, report())
    # The dispatcher is not the assigned officer: 403, and no photo is stored.
    r = api(users["dispatcher"]).post(f"/api/v1/events/{event.pk}/resolve/", {"result": "x", "photos": [upload()]},
                                      format="multipart", HTTP_IF_MATCH=event.etag)
    assert r.status_code == 403
    assert not EventPhoto.objects.exists() and stored_files(media_root) == []


# --- separate uploads -------------------------------------------------------------------------

def test_add_photos_roles_kinds_and_limits(api, users, officers, report, settings):
    event = report()
    url = f"/api/v1/events/{event.pk}/photos/"
    # The reporting platform adds a report photo; another street's team leader does not see the event.
    assert api(users["platform"]).post(url, {"photos": [upload()]}, format="multipart").status_code == 201
    assert api(users["leader_s2"]).post(url, {"photos": [upload()]}, format="multipart").status_code == 404
    # An officer not assigned to it may not add photos; result photos wait until it is signed for.
    assert api(users["officer_s1"]).post(url, {"photos": [upload()]}, format="multipart").status_code == 403
    r = api(users["leader_s1"]).post(url, {"photos": [upload()], "kind": "result"}, format="multipart")
    assert r.status_code == 409
    # The assigned officer's photos are result photos by default.
    event = transitions.accept(users["officer_s1"], transitions.dispatch(users["dispatcher"], event, officers["s1"]))
    r = api(users["officer_s1"]).post(url, {"photos": [upload()]}, format="multipart")
    assert r.status_code == 201 and r.json()[0]["kind"] == "result"
    # No file at all, or beyond the per-event limit: field errors.
    assert api(users["officer_s1"]).post(url, {}, format="multipart").json() == {"photos": ["请选择要上传的照片。"]}
    settings.EVENT_PHOTO_MAX_PER_EVENT = 3
    r = api(users["officer_s1"]).post(url, {"photos": [upload(), upload()]}, format="multipart")
    assert r.status_code == 400 and "photos" in r.json()
    listed = api(users["leader_s1"]).get(url).json()
    assert [p["kind"] for p in listed] == ["report", "result"]


def test_no_photos_on_a_closed_event(api, users, officers, report):
    event = on_site(users, officers, report())
    event = transitions.resolve(users["officer_s1"], event, "已处理")
    transitions.close(users["dispatcher"], event, 5)
    r = api(users["dispatcher"]).post(f"/api/v1/events/{event.pk}/photos/", {"photos": [upload()]}, format="multipart")
    assert r.status_code == 409


def test_photo_file_refusals(api, client, users, officers, report):
    event = report()
    photo = photo_writes.add_photos(users["platform"], event, [upload()])[0]
    url = f"/api/v1/events/{event.pk}/photos/{photo.pk}/"
    assert api(users["dispatcher"]).get(url).status_code == 200
    assert api(users["leader_s2"]).get(url).status_code == 404        # another street
    assert api(users["platform_s2"]).get(url).status_code == 404
    assert api().get(url).status_code in (401, 403)                   # anonymous
    assert api(users["dispatcher"]).get(f"/api/v1/events/{event.pk}/photos/{photo.pk + 999}/").status_code == 404
    other = report()
    assert api(users["dispatcher"]).get(f"/api/v1/events/{other.pk}/photos/{photo.pk}/").status_code == 404
    # Nothing under MEDIA_ROOT is published.
    assert client.get("/media/" + photo.file.name).status_code == 404


def test_roleless_user_may_not_fetch_photos(api, users, report):
    from django.contrib.auth.models import Group

    event = report()
    photo = photo_writes.add_photos(users["platform"], event, [upload()])[0]
    user = users["dispatcher"]
    user.groups.remove(Group.objects.get(name="dispatcher"))
    user._role_cache = None
    assert api(user).get(f"/api/v1/events/{event.pk}/photos/{photo.pk}/").status_code == 403


# --- Open311 ----------------------------------------------------------------------------------

def test_open311_media_url_is_a_link_record_read_back_as_media_url(client, users, catalog):
    from rest_framework.authtoken.models import Token

    key = Token.objects.create(user=users["platform"]).key
    lat, lng = S1_POINT
    r = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "ZDJY", "lat": lat, "long": lng, "description": "占道",
        "media_url": "https://example.org/p/9.jpg",
    })
    assert r.status_code == 200, r.content
    event = Event.objects.get(pk=r.json()[0]["service_request_id"])
    assert event.description == "占道"
    link = EventPhoto.objects.get(event=event)
    assert (link.kind, link.url, link.file.name) == ("media_url", "https://example.org/p/9.jpg", "")
    back = client.get(f"/open311/v2/requests/{event.pk}.json").json()[0]
    assert back["media_url"] == "https://example.org/p/9.jpg"
    # The photo line is not the request's status note.
    assert back["status_notes"] != TimelineEntry.objects.get(event=event, action="photo").note
    # Staff see it in the event's photos, as the link itself.
    detail = Event.objects.get(pk=event.pk)
    from rest_framework.test import APIClient

    staff = APIClient()
    staff.force_authenticate(users["dispatcher"])
    assert staff.get(f"/api/v1/events/{detail.pk}/").json()["photos"][0]["url"] == "https://example.org/p/9.jpg"


def test_event_admin_lists_photos_read_only_through_the_scoped_api(api, client, users, catalog):
    r = api(users["platform"]).post("/api/v1/events/", {**intake_form(), "photos": [upload("现场.png")]},
                                    format="multipart")
    assert r.status_code == 201, r.json()
    event_id, photo_id = r.json()["id"], r.json()["photos"][0]["id"]
    client.force_login(users["bureau"])
    page = client.get(f"/admin/command_center/event/{event_id}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    link = f'href="/api/v1/events/{event_id}/photos/{photo_id}/"'
    assert link in body and "现场.png" in body
    assert "/media/" not in body  # never a public file URL
    assert 'id="timeline-group"' in body  # the timeline beside it, for staff without model permissions
    # The link opens for the same staff session; the inline offers no add, change or delete.
    assert client.get(f"/api/v1/events/{event_id}/photos/{photo_id}/").status_code == 200
    assert 'name="photos-0-DELETE"' not in body and "photos-TOTAL_FORMS\" value=\"0\"" not in body
    assert EventPhoto.objects.filter(event_id=event_id).count() == 1
