"""core.files: the image check shared by inspections' checklist photos and the command center's event
photos. Its own wording by default; a caller's wording, limits and name endings when it passes them."""
import base64
import hashlib

import pytest
from django.utils import translation
from PIL import Image

from command_center.testing import image_bytes, upload
from core import files

OWN = {files.TOO_LARGE: "big!", files.TOO_MANY_PIXELS: "wide!", files.EMPTY: "nothing!",
       files.NOT_AN_IMAGE: "junk!", files.WRONG_NAME: "name!"}


def refusal(source, **kwargs):
    with pytest.raises(files.NotAnImage) as caught:
        files.read_image(source, **{"max_bytes": 10_000, **kwargs})
    return caught.value.reason, str(caught.value)


def test_an_image_with_its_digest_from_a_file_or_a_data_url():
    content = image_bytes("JPEG", size=(10, 7))
    from_file = files.read_image(upload("cam.jpg", content=content), max_bytes=10_000)
    data_url = "data:image/jpeg;base64," + base64.b64encode(content).decode()
    from_url = files.read_image(data_url, max_bytes=10_000)
    for checked in (from_file, from_url):
        assert (checked.content_type, checked.extension, checked.width, checked.height) == ("image/jpeg", "jpg", 10, 7)
        assert checked.sha256 == hashlib.sha256(content).hexdigest() and checked.size == len(content)
    assert (from_file.name, from_url.name) == ("cam.jpg", "")


def test_refusals_in_its_own_words_by_default():
    with translation.override("zh-hans"):
        assert refusal(upload("big.png", size=(80, 80), color=None), max_bytes=100) == (files.TOO_LARGE, "图片过大。")
        assert refusal(upload("e.png", content=b"")) == (files.EMPTY, "文件为空。")
        assert refusal(upload("w.png", size=(40, 40)), max_pixels=100) == (files.TOO_MANY_PIXELS, "图片尺寸过大。")
        assert refusal(upload("t.png", content=b"<svg/>")) == (files.NOT_AN_IMAGE, "不是有效的 JPEG、PNG、WebP 图片。")
        # Any name by default: the content decides.
        assert files.read_image(upload("x.svg"), max_bytes=10_000).content_type == "image/png"


def test_a_callers_words_limits_and_name_endings():
    assert refusal(upload("big.png", size=(80, 80), color=None), max_bytes=100, messages=OWN) == (files.TOO_LARGE, "big!")
    assert refusal(upload("e.png", content=b""), messages=OWN) == (files.EMPTY, "nothing!")
    assert refusal(upload("w.png", size=(40, 40)), max_pixels=100, messages=OWN) == (files.TOO_MANY_PIXELS, "wide!")
    assert refusal(upload("t.png", content=b"<svg/>"), messages=OWN) == (files.NOT_AN_IMAGE, "junk!")
    assert refusal(upload("x.svg"), extensions={"png"}, messages=OWN) == (files.WRONG_NAME, "name!")
    assert files.read_image(upload("x.PNG"), max_bytes=10_000, extensions={"png"}).extension == "png"
    # Words it was not given stay its own.
    assert refusal(upload("e.png", content=b""), messages={files.TOO_LARGE: "big!"})[1] != "big!"


def test_a_decompression_bomb_is_too_many_pixels(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    assert refusal(upload("bomb.png", size=(30, 30)), messages=OWN) == (files.TOO_MANY_PIXELS, "wide!")
