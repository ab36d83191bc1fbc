"""The OpenAPI schema's error answers, declared once for every operation (the DRF default schema class).

core.api.errors makes every error one of two JSON shapes; this says so in the schema, per operation, for
the statuses the operation can answer, so clients can generate error types:
- `Error` `{"detail": str, "code": str}`: 401/403/404/409/412/413/415/422/428/429/503, and 400 for a
  body that cannot be parsed;
- `ValidationError` `{"<field>": ["message", …]}` (nested objects for nested fields): 400, and 409/422
  when a domain error names its fields.

Which statuses (from what the operation declares and what its view is):
400 a request body or query parameters · 401 when the view's first authenticator asks for credentials
(else an anonymous request is 403, DRF's rule) · 403 authentication or a permission other than AllowAny ·
404 path parameters or a paginated list (a page past the end) · 409 and 422 every write (a conflict, a
rule of the domain) · 412 and 428 an `If-Match` header parameter · 413 and 415 a request body (size cap,
media type) · 429 throttled views · 503 every operation (the database is busy: core.api.errors).
A status the view declares itself (extend_schema) is kept as it is.

Also: a hand-declared response field over a nullable model field is declared nullable.
"""
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR_SCHEMA = {
    "type": "object",
    "description": "detail: a message for people; code: a stable code for programs.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": 'Bad input: {"<field>": ["message", …]} ("non_field_errors" for the whole body; '
                   "an object for a nested field's own fields).",
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
}

DESCRIPTIONS = {
    400: _("输入有误"), 401: _("未登录或令牌无效"), 403: _("无权执行此操作"), 404: _("不存在或不在您的区域内"),
    409: _("与当前状态冲突"), 412: _("If-Match 与当前版本不符"), 413: _("请求体过大"), 415: _("不支持的内容类型"),
    422: _("不符合业务规则"), 428: _("缺少 If-Match"), 429: _("请求过于频繁"), 503: _("系统繁忙，请稍后重试"),
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
FIELD_ERROR_STATUSES = {400, 409, 422}  # a domain error may name fields at these (core.exceptions)


def _source_is_nullable(field) -> bool:
    """A field declared by hand (e.g. `SlugRelatedField(read_only=True)`) over a model field with
    null=True answers null, though DRF's allow_null says nothing (ModelSerializer only sets it on the
    fields it builds itself): the schema must say nullable."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    source = getattr(field, "source", None)
    if model is None or not source or "." in source or source == "*":
        return False
    try:
        model_field = model._meta.get_field(source)
    except FieldDoesNotExist:
        return False
    # reverse relations (lists) and many-to-many are never null, whatever `null` says
    return bool(model_field.concrete and not model_field.many_to_many and model_field.null)


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if not operation:
            return operation
        responses = operation.setdefault("responses", {})
        for code in sorted(self.error_statuses(operation)):
            responses.setdefault(str(code), self._error_response(code))
        return operation

    def error_statuses(self, operation) -> set[int]:
        params = operation.get("parameters", [])
        where = {p.get("in") for p in params}
        has_body = "requestBody" in operation
        codes = {503}
        if has_body or "query" in where:
            codes.add(400)
        authenticators = list(getattr(self.view, "authentication_classes", ()))
        permissions = list(getattr(self.view, "permission_classes", ()))
        if permissions and not all(p is AllowAny for p in permissions):
            codes.add(403)
            if authenticators and authenticators[0]().authenticate_header(None):
                codes.add(401)
        if "path" in where or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            codes.add(404)
        if self.method in WRITES:
            codes |= {409, 422}
        if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in params):
            codes |= {412, 428}
        if has_body:
            codes |= {413, 415}
        if getattr(self.view, "throttle_classes", None):
            codes.add(429)
        return codes

    def _get_serializer_field_meta(self, field, direction):
        meta = super()._get_serializer_field_meta(field, direction)
        if direction == "response" and not meta.get("nullable") and _source_is_nullable(field):
            meta["nullable"] = True
        return meta

    def _component(self, name, schema):
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _error_response(self, code: int) -> dict:
        error = self._component("Error", ERROR_SCHEMA)
        if code in FIELD_ERROR_STATUSES:
            schema = {"anyOf": [self._component("ValidationError", VALIDATION_ERROR_SCHEMA), error]}
        else:
            schema = error
        return {"description": str(DESCRIPTIONS[code]), "content": {"application/json": {"schema": schema}}}
