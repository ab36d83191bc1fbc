"""The API's JSON parser: DRF's, with a size cap (API_JSON_MAX_BYTES → 413) and a nesting cap
(API_JSON_MAX_DEPTH → 400) checked before parsing (core.safejson), so no body can raise RecursionError."""
import codecs

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils.json import strict_constant

from core import safejson


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = safejson.max_bytes()
        data = stream.read(limit + 1)  # never more than the cap into memory
        try:
            text = codecs.decode(data, encoding)
            return safejson.loads(text, limit_bytes=limit,
                                  parse_constant=strict_constant if self.strict else None)
        except safejson.JsonRejected as exc:
            if exc.kind == "too_large":
                raise PayloadTooLarge(_("请求体超过 %(limit)d 字节的上限。") % {"limit": limit}) from None
            raise ParseError(_("JSON 嵌套超过 %(depth)d 层。") % {"depth": safejson.max_depth()},
                             code="too_deep") from None
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ParseError(_("JSON 格式错误：%(error)s") % {"error": exc}) from None
