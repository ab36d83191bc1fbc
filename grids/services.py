"""Every write to the registry: one function per business action, one transaction, one audit record."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core import audit
from core.exceptions import Forbidden, ValidationFailed
from core.phones import phone_error
from core.roles import API_CLIENT, BUREAU_STAFF, DISPATCHER, TEAM_LEADER, has_role
from core.unset import UNCHANGED, given
from grids import geometry, selectors, signals, spatial
from grids.choices import ALLOWED_PARENT, AreaKind, DeliveryStatus, StreetTier, SubjectStatus
from grids.models import Area, Notice, NoticeDelivery, Officer, OfficerPosition, Subject, SubjectCategory, Tag

AREA_FIELDS = ("code", "name", "kind", "parent", "tier", "zone", "boundary")
SUBJECT_FIELDS = (
    "name", "category", "legal_representative", "contact_phone", "licence_no", "shop_sign", "address",
    "lat", "lng", "grid", "status", "tags",
)
SUBJECT_TEXT_FIELDS = ("name", "legal_representative", "contact_phone", "licence_no", "shop_sign", "address")
# A subject placed in a given grid may lie this far outside it (degrees, ~10 m): GPS jitter at borders.
GRID_POINT_TOLERANCE_DEG = 1e-4


# --- Areas ------------------------------------------------------------------------------------

def validate_area(*, kind, parent, boundary, tier="", zone=None, parent_geom=None, instance=None):
    """Check an area's place in the tree and its boundary. Returns the parsed geometry (or None)."""
    errors = {}
    if kind not in AreaKind.values:
        errors["kind"] = [_("未知层级：%(kind)s。") % {"kind": kind}]
    else:
        allowed = ALLOWED_PARENT[AreaKind(kind)]
        parent_kind = parent.kind if parent is not None else None
        if parent_kind not in allowed:
            want = _("无上级") if allowed == (None,) else "、".join(str(AreaKind(a).label) for a in allowed)
            errors["parent"] = [_("%(label)s的上级必须是：%(want)s。") % {"label": AreaKind(kind).label, "want": want}]
        if instance is not None and parent is not None and (
            parent.pk == instance.pk or (instance.path and parent.path.startswith(instance.path))
        ):
            errors["parent"] = [_("上级不能是自身或下级区域。")]
    if tier and kind != AreaKind.STREET:
        errors["tier"] = [_("只有镇街有镇街类型。")]
    elif tier and tier not in StreetTier.values:
        errors["tier"] = [_("未知镇街类型：%(tier)s（可选：%(values)s）。") % {"tier": tier, "values": ', '.join(StreetTier.values)}]
    if zone is not None and (kind != AreaKind.GRID or zone.kind != AreaKind.ZONE):
        errors["zone"] = [_("只有网格可以归入防区/片区。")]
    elif zone is not None and parent is not None and not parent.path.startswith(zone.parent.path if zone.parent else ""):
        errors["zone"] = [_("防区必须属于该网格所在的镇街。")]
    if errors:
        raise ValidationFailed(fields=errors)
    geom = None
    if boundary is not None:
        geom = geometry.parse_boundary(boundary)
        if parent is not None:
            pgeom = parent_geom
            if pgeom is None and parent.boundary:
                pgeom = geometry.parse_boundary(parent.boundary)
            if pgeom is not None:
                geometry.check_inside(geom, pgeom, settings.AREA_CONTAINMENT_TOLERANCE)
    return geom


def _check_code_and_name(code, name, instance=None):
    errors = {}
    for field, value in (("code", code), ("name", name)):
        max_length = Area._meta.get_field(field).max_length
        if not (value or "").strip():
            errors[field] = [_("此字段为必填项。")]
        elif len(value) > max_length:
            errors[field] = [_("最多 %(max_length)s 个字符。") % {"max_length": max_length}]
    if "code" not in errors:
        clash = Area.objects.filter(code=code)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors["code"] = [_("编码 %(code)s 已存在。") % {"code": code}]
    if errors:
        raise ValidationFailed(fields=errors)


def _check_children_still_fit(area: Area, geom):
    """After a change of kind or boundary, the area's children must still be allowed under it and
    lie inside it (within tolerance)."""
    children = list(Area.objects.filter(parent_id=area.pk).values_list("code", "kind", "boundary"))
    wrong_kind = [c for c, k, _ in children if area.kind not in ALLOWED_PARENT.get(AreaKind(k), ())]
    if wrong_kind:
        raise ValidationFailed(fields={"kind": [_("下级区域 %(wrong_kind)s 不能位于%(label)s之下。")
            % {"wrong_kind": ', '.join(wrong_kind[:10]), "label": AreaKind(area.kind).label}]})
    if geom is None:
        return
    outside = []
    for code, _kind, boundary in children:
        if not boundary:
            continue
        try:
            geometry.check_inside(geometry.parse_boundary(boundary), geom, settings.AREA_CONTAINMENT_TOLERANCE)
        except ValidationFailed:
            outside.append(code)
    if outside:
        raise ValidationFailed(fields={"boundary": [_("下级区域 %(outside)s 将超出新边界。")
            % {"outside": ', '.join(outside[:10])}]})


def _apply_geometry(area: Area, geom):
    box = geometry.bbox(geom) if geom is not None else dict.fromkeys(("min_lat", "min_lng", "max_lat", "max_lng"))
    for k, v in box.items():
        setattr(area, k, v)


def _set_path(area: Area):
    new_path = (area.parent.path if area.parent_id else "/") + f"{area.pk}/"
    if new_path != area.path:
        old_path = area.path
        area.path = new_path
        Area.objects.filter(pk=area.pk).update(path=new_path)
        if old_path:
            # A moved subtree: rewrite the descendants' paths.
            below = Area.objects.filter(path__startswith=old_path).exclude(pk=area.pk).values_list("pk", "path")
            for pk, path in list(below):
                Area.objects.filter(pk=pk).update(path=new_path + path[len(old_path):])


def require_area_writer(actor, *areas):
    """A user (actor None is the system) must be bureau staff covering every one of `areas`; None in
    `areas` stands for "above the district" (a new root), which only district-wide staff may touch."""
    if actor is None:
        return
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以维护区域。"))
    for area in areas:
        if (area is None and selectors.user_area_paths(actor) is not None) or (
            area is not None and not selectors.user_covers_area(actor, area)
        ):
            raise Forbidden(_("该区域不在您的辖区内。"))


def check_area(actor, *, code, name, kind, parent=None, boundary=None, tier="", zone=None, instance=None,
               changed=(), parent_geom=None):
    """Every check of create_area / update_area, without writing: for forms that must show the errors."""
    require_area_writer(actor, *([instance] if instance is not None else []),
                        *([parent] if instance is None or "parent" in changed else []))
    _check_code_and_name(code, name, instance=instance)
    geom = validate_area(kind=kind, parent=parent, boundary=boundary, tier=tier or "", zone=zone,
                         parent_geom=parent_geom, instance=instance)
    if instance is not None and ("kind" in changed or "boundary" in changed):
        _check_children_still_fit(Area(pk=instance.pk, kind=kind), geom)
    return geom


@transaction.atomic
def create_area(actor, *, code, name, kind, parent=None, boundary=None, tier="", zone=None, _parent_geom=None):
    geom = check_area(actor, code=code, name=name, kind=kind, parent=parent, boundary=boundary, tier=tier, zone=zone,
                      parent_geom=_parent_geom)
    area = insert_area(actor, code=code, name=name, kind=kind, parent=parent, boundary=boundary, tier=tier, zone=zone,
                       geom=geom)
    transaction.on_commit(spatial.invalidate)
    return area


def insert_area(actor, *, code: str, name: str, kind: str, parent: Area | None, boundary: dict | None, tier: str,
                zone: Area | None, geom) -> Area:
    """Write a new area its caller has checked (create_area checks one; the importer checks a whole file, against
    the file and the database together). The caller drops the spatial index on commit."""
    area = Area(code=code, name=name, kind=kind, parent=parent, boundary=boundary, tier=tier or "", zone=zone)
    _apply_geometry(area, geom)
    area.save()
    _set_path(area)
    audit.record(actor, "area.created", area, changes={k: [None, v] for k, v in audit.snapshot(area, AREA_FIELDS).items()})
    return area


def rewrite_area(actor, area: Area, *, name: str, kind: str, parent: Area | None, boundary: dict | None, tier: str,
                 zone: Area | None, geom) -> Area:
    """Overwrite an area with fields its caller has checked (the importer). The caller drops the spatial index
    on commit."""
    area = Area.objects.select_for_update().get(pk=area.pk)
    before = audit.snapshot(area, AREA_FIELDS)
    area.name, area.kind, area.parent, area.boundary, area.tier, area.zone = name, kind, parent, boundary, tier, zone
    _apply_geometry(area, geom)
    area.save()
    _set_path(area)
    audit.record(actor, "area.updated", area, changes=audit.diff(before, audit.snapshot(area, AREA_FIELDS)))
    return area


@transaction.atomic
def update_area(actor, area: Area, *, code=UNCHANGED, name=UNCHANGED, kind=UNCHANGED, parent=UNCHANGED,
                boundary=UNCHANGED, tier=UNCHANGED, zone=UNCHANGED):
    """Change the given fields of an area, by bureau staff covering it (a code that another area has, a
    parent that would make a cycle or a boundary outside the parent's are refused by check_area)."""
    changes = given(code=code, name=name, kind=kind, parent=parent, boundary=boundary, tier=tier, zone=zone)
    area = Area.objects.select_for_update().get(pk=area.pk)
    require_area_writer(actor, area)
    before = audit.snapshot(area, AREA_FIELDS)
    for k, v in changes.items():
        setattr(area, k, v)
    area.tier = area.tier or ""
    geom = check_area(actor, code=area.code, name=area.name, kind=area.kind, parent=area.parent,
                      boundary=area.boundary, tier=area.tier, zone=area.zone, instance=area, changed=changes)
    _apply_geometry(area, geom)
    area.save()
    _set_path(area)
    delta = audit.diff(before, audit.snapshot(area, AREA_FIELDS))
    if delta:
        audit.record(actor, "area.updated", area, changes=delta)
    transaction.on_commit(spatial.invalidate)
    return area


# --- Subjects ---------------------------------------------------------------------------------

def _require_bureau_in_area(actor, grid: Area):
    if not has_role(actor, BUREAU_STAFF):
        raise Forbidden(_("只有区综合执法局工作人员可以维护管理对象。"))
    if not selectors.user_covers_area(actor, grid):
        raise Forbidden(_("该网格不在您的辖区内。"))


def _clean_subject(data: dict, instance: Subject | None = None) -> dict:
    """Normalise and check subject fields; derive the grid from the point when not given."""
    errors = {}
    out = dict(data)
    if "lat" in out or "lng" in out or instance is None:
        try:
            lat, lng = geometry.parse_lat_lng(
                out.get("lat", getattr(instance, "lat", None)), out.get("lng", getattr(instance, "lng", None))
            )
            out["lat"], out["lng"] = lat, lng
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if (instance is None or "name" in out) and not (out.get("name") or "").strip():
        errors["name"] = [_("此字段为必填项。")]
    for field in SUBJECT_TEXT_FIELDS:
        value = out.get(field)
        if value is None:
            continue
        max_length = Subject._meta.get_field(field).max_length
        if not isinstance(value, str):
            errors[field] = [_("必须是文本。")]
        elif len(value) > max_length:
            errors[field] = [_("最多 %(max_length)s 个字符。") % {"max_length": max_length}]
    if isinstance(out.get("contact_phone"), str) and "contact_phone" not in errors:
        phone_problem = phone_error(out["contact_phone"])
        if phone_problem:
            errors["contact_phone"] = [phone_problem]
        else:
            out["contact_phone"] = out["contact_phone"].strip()
    category = out.get("category", getattr(instance, "category", None))
    if category is None:
        errors["category"] = [_("此字段为必填项。")]
    elif category.parent_id is None:
        errors["category"] = [_("请选择小类（二级类别）。")]
    if "licence_no" in out:
        out["licence_no"] = (out["licence_no"] or "").strip() or None
        if out["licence_no"]:
            clash = Subject.objects.filter(licence_no=out["licence_no"])
            if instance is not None:
                clash = clash.exclude(pk=instance.pk)
            if clash.exists():
                errors["licence_no"] = [_("营业执照号 %(licence_no)s 已被其他对象使用。") % {"licence_no": out['licence_no']}]
    if "status" in out and out["status"] not in SubjectStatus.values:
        errors["status"] = [_("未知状态：%(status)s。") % {"status": out['status']}]
    if errors:
        raise ValidationFailed(fields=errors)
    grid = out.get("grid")
    lat, lng = out.get("lat", getattr(instance, "lat", None)), out.get("lng", getattr(instance, "lng", None))
    placed = instance is None or "lat" in out or "lng" in out or "grid" in out
    if not placed:
        return out
    if grid is None:
        # The grid follows the point unless one is given.
        grid = selectors.grid_at(lat, lng)
        if grid is None:
            raise ValidationFailed(fields={"lat": [_("该位置不在任何网格内。")]})
        out["grid"] = grid
    elif grid.kind != AreaKind.GRID:
        raise ValidationFailed(fields={"grid": [_("必须选择网格。")]})
    elif grid.boundary and geometry.parse_boundary(grid.boundary).distance(geometry.point(lat, lng)) > GRID_POINT_TOLERANCE_DEG:
        raise ValidationFailed(fields={"grid": [_("该位置不在所选网格 %(grid_code)s 内。") % {"grid_code": grid.code}]})
    return out


def _set_tags(subject: Subject, names):
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        tags.append(Tag.objects.get_or_create(name=name[:50])[0])
    subject.tags.set(tags)


def check_subject(actor, *, instance: Subject | None = None, name=UNCHANGED, category=UNCHANGED, lat=UNCHANGED,
                  lng=UNCHANGED, grid=UNCHANGED, legal_representative=UNCHANGED, contact_phone=UNCHANGED,
                  licence_no=UNCHANGED, shop_sign=UNCHANGED, address=UNCHANGED, status=UNCHANGED,
                  tags=UNCHANGED) -> dict:
    """Every check of create_subject / update_subject (of `instance`: only the given fields), without
    writing; returns the cleaned data (with the grid derived from the point). For forms that must show
    the errors."""
    data = given(name=name, category=category, lat=lat, lng=lng, grid=grid, legal_representative=legal_representative,
                 contact_phone=contact_phone, licence_no=licence_no, shop_sign=shop_sign, address=address,
                 status=status, tags=tags)
    if instance is not None:
        _require_bureau_in_area(actor, instance.grid)
    named = data.get("grid")
    if isinstance(named, Area) and not selectors.user_covers_area(actor, named):
        # A grid the actor cannot see is answered like one that does not exist (no 403 that confirms it).
        raise ValidationFailed(fields={"grid": [_("网格不存在。")]})
    data = _clean_subject(data, instance=instance)
    if instance is None or "grid" in data:
        _require_bureau_in_area(actor, data["grid"])
    return data


@transaction.atomic
def create_subject(actor, *, name: str = "", category: SubjectCategory | None = None, lat: float | None = None,
                   lng: float | None = None, grid: Area | None = None, legal_representative: str = "",
                   contact_phone: str = "", licence_no: str | None = None, shop_sign: str = "", address: str = "",
                   status: str = SubjectStatus.ACTIVE, tags: list[str] | tuple = ()) -> Subject:
    """A new subject, by bureau staff covering its grid (the grid follows the point unless one is given)."""
    data = check_subject(
        actor, name=name, category=category, lat=lat, lng=lng, grid=grid, legal_representative=legal_representative,
        contact_phone=contact_phone, licence_no=licence_no, shop_sign=shop_sign, address=address, status=status,
        tags=tags)
    return _insert_subject(actor, data)


@transaction.atomic
def insert_subject(actor, *, name: str = "", category: SubjectCategory | None = None, lat: float | None = None,
                   lng: float | None = None, grid: Area | None = None, legal_representative: str = "",
                   contact_phone: str = "", licence_no: str | None = None, shop_sign: str = "", address: str = "",
                   status: str = SubjectStatus.ACTIVE, tags: list[str] | tuple = ()) -> Subject:
    """create_subject without the permission check, for callers that decided it themselves: the system's
    loaders (demo data, test fixtures) and the importer (which checks every row's jurisdiction first)."""
    data = _clean_subject(dict(
        name=name, category=category, lat=lat, lng=lng, grid=grid, legal_representative=legal_representative,
        contact_phone=contact_phone, licence_no=licence_no, shop_sign=shop_sign, address=address, status=status,
        tags=tags))
    return _insert_subject(actor, data)


def _insert_subject(actor, data: dict) -> Subject:
    tags = data.pop("tags", None) or []
    subject = Subject.objects.create(**data)
    _set_tags(subject, tags)
    audit.record(actor, "subject.created", subject,
                 changes={k: [None, v] for k, v in audit.snapshot(subject, SUBJECT_FIELDS).items()})
    return subject


@transaction.atomic
def update_subject(actor, subject: Subject, *, name=UNCHANGED, category=UNCHANGED, lat=UNCHANGED, lng=UNCHANGED,
                   grid=UNCHANGED, legal_representative=UNCHANGED, contact_phone=UNCHANGED, licence_no=UNCHANGED,
                   shop_sign=UNCHANGED, address=UNCHANGED, status=UNCHANGED, tags=UNCHANGED) -> Subject:
    """Change the given fields, by bureau staff covering the subject's grid (and the new one when it moves)."""
    changes = given(name=name, category=category, lat=lat, lng=lng, grid=grid,
                     legal_representative=legal_representative, contact_phone=contact_phone, licence_no=licence_no,
                     shop_sign=shop_sign, address=address, status=status, tags=tags)
    return _rewrite_subject(actor, subject, changes,
                            clean=lambda changes, instance: check_subject(actor, instance=instance, **changes))


@transaction.atomic
def rewrite_subject(actor, subject: Subject, *, name=UNCHANGED, category=UNCHANGED, lat=UNCHANGED, lng=UNCHANGED,
                    grid=UNCHANGED, legal_representative=UNCHANGED, contact_phone=UNCHANGED, licence_no=UNCHANGED,
                    shop_sign=UNCHANGED, address=UNCHANGED, status=UNCHANGED, tags=UNCHANGED) -> Subject:
    """update_subject without the permission check, for callers that decided it themselves (the importer,
    the system's loaders and test fixtures)."""
    changes = given(name=name, category=category, lat=lat, lng=lng, grid=grid,
                     legal_representative=legal_representative, contact_phone=contact_phone, licence_no=licence_no,
                     shop_sign=shop_sign, address=address, status=status, tags=tags)
    return _rewrite_subject(actor, subject, changes, clean=_clean_subject)


def _rewrite_subject(actor, subject: Subject, changes: dict, *, clean) -> Subject:
    """`clean(changes, subject)` checks and normalises the changes (with or without the permission check)."""
    subject = Subject.objects.select_for_update().get(pk=subject.pk)
    before = audit.snapshot(subject, SUBJECT_FIELDS)
    data = clean(changes, subject)
    tags = data.pop("tags", None)
    for k, v in data.items():
        setattr(subject, k, v)
    subject.save()
    if tags is not None:
        _set_tags(subject, tags)
    delta = audit.diff(before, audit.snapshot(subject, SUBJECT_FIELDS))
    if delta:
        audit.record(actor, "subject.updated", subject, changes=delta)
    return subject


# --- Officers ---------------------------------------------------------------------------------

def _may_report_position(actor, officer: Officer) -> bool:
    if getattr(actor, "officer", None) is not None and actor.officer.pk == officer.pk:
        return True
    # Body-camera / vehicle platforms and the center may feed positions for officers of their areas.
    return has_role(actor, API_CLIENT, DISPATCHER) and selectors.user_covers_area(actor, officer.team.street)


@transaction.atomic
def record_position(actor, officer: Officer, *, lat, lng, recorded_at, accuracy=None, heading=None, source=""):
    """Append a ping to the track; move the officer's last position only if the ping is newer."""
    if not _may_report_position(actor, officer):
        raise Forbidden(_("您不能上报该队员的位置。"))
    lat, lng = geometry.parse_lat_lng(lat, lng)
    now = timezone.now()
    # An implausible ping (another city, a date long past or far ahead) would steer dispatch: refused.
    errors = {}
    extent = selectors.district_extent()
    if extent is not None and not geometry.within_box(lat, lng, extent, settings.DISTRICT_EXTENT_MARGIN_M):
        errors["lat"] = errors["lng"] = [_("位置不在本区范围内。")]
    if recorded_at > now + timedelta(seconds=settings.POSITION_MAX_FUTURE_SECONDS):
        errors["recorded_at"] = [_("定位时间不能晚于当前时间。")]
    elif recorded_at < now - timedelta(seconds=settings.POSITION_MAX_AGE_SECONDS):
        errors["recorded_at"] = [_("定位时间过早（最多 %(hours)s 小时前）。") % {
            "hours": f"{settings.POSITION_MAX_AGE_SECONDS / 3600:g}"}]
    if accuracy is not None and (isinstance(accuracy, bool) or accuracy < 0):
        errors["accuracy"] = [_("精度不能为负数。")]
    if errors:
        raise ValidationFailed(fields=errors)
    ping, created = OfficerPosition.objects.get_or_create(
        officer=officer, recorded_at=recorded_at,
        defaults={"lat": lat, "lng": lng, "accuracy": accuracy, "heading": heading, "source": source[:32]},
    )
    officer = Officer.objects.select_for_update().get(pk=officer.pk)
    moved = created and (officer.last_position_at is None or recorded_at > officer.last_position_at)
    if moved:
        before = (officer.last_lat, officer.last_lng, officer.last_position_at)
        officer.last_lat, officer.last_lng = lat, lng
        officer.last_accuracy, officer.last_heading = accuracy, heading
        officer.last_position_at = recorded_at
        officer.save(update_fields=["last_lat", "last_lng", "last_accuracy", "last_heading", "last_position_at", "updated_at"])
        audit.record(actor, "officer.moved", officer, changes={
            "position": [[before[0], before[1]], [lat, lng]],
            "last_position_at": [before[2], recorded_at],
        })
        officer_id = officer.pk
        transaction.on_commit(lambda: signals.officer_moved.send(
            sender=Officer, officer_id=officer_id, lat=lat, lng=lng, recorded_at=recorded_at,
        ))
    return ping, created, moved


def set_duty_status(actor, officer_id: int, to: str, *, why: dict | None = None) -> bool:
    """Move an officer's duty status, inside the caller's transaction (the officer's row locked), audited
    (`why`: what caused it, e.g. {"event": 12, "cause": "accept"}, kept in the record) and announced on
    commit (`signals.officer_moved` with duty_status). Returns whether it changed."""
    officer = Officer.objects.select_for_update().only("id", "duty_status").get(pk=officer_id)
    if officer.duty_status == to:
        return False
    before = officer.duty_status
    officer.duty_status = to
    officer.save(update_fields=["duty_status", "updated_at"])
    audit.record(actor, "officer.duty_status", officer, changes={
        "duty_status": [before, to], **{k: [None, v] for k, v in (why or {}).items()}})
    transaction.on_commit(lambda: signals.officer_moved.send(sender=Officer, officer_id=officer_id, duty_status=to))
    return True


# --- One-click notices ------------------------------------------------------------------------

class OutboxSender:
    """The default sender: deliveries wait in the outbox table for a gateway (or a person) to send.

    A sender is any class named by settings.NOTICE_SENDER with a `channel` name and a `send(delivery)`
    method returning the delivery's new status (DeliveryStatus: queued, sent or failed). It is called
    after the notice has committed, once per delivery with a phone number; an exception it raises marks
    that delivery failed and does not stop the others.
    """

    channel = "outbox"

    def send(self, delivery: NoticeDelivery) -> str:
        return DeliveryStatus.QUEUED


def get_notice_sender():
    return import_string(settings.NOTICE_SENDER)()


@transaction.atomic
def send_notice(actor, area: Area, *, title: str, body: str) -> Notice:
    """One click: a notice to every active subject of `area` (any level, a zone included)."""
    if not has_role(actor, BUREAU_STAFF, TEAM_LEADER, DISPATCHER):
        raise Forbidden(_("您的角色不能发送一键通知。"))
    if not selectors.user_covers_area(actor, area):
        raise Forbidden(_("该区域不在您的辖区内。"))
    errors = {}
    if not (title or "").strip():
        errors["title"] = [_("此字段为必填项。")]
    if not (body or "").strip():
        errors["body"] = [_("此字段为必填项。")]
    if errors:
        raise ValidationFailed(fields=errors)
    sender = get_notice_sender()
    channel = str(getattr(sender, "channel", "outbox"))[:32]
    notice = Notice.objects.create(area=area, title=title.strip()[:200], body=body.strip(), sent_by=actor)
    deliveries = [
        NoticeDelivery(
            notice=notice, subject_id=sid, phone=phone,
            status=DeliveryStatus.QUEUED if phone else DeliveryStatus.SKIPPED, channel=channel,
        )
        for sid, phone in selectors.active_subjects_in(area).order_by("id").values_list("id", "contact_phone")
    ]
    NoticeDelivery.objects.bulk_create(deliveries, batch_size=1000)
    notice.recipient_count = len(deliveries)
    notice.save(update_fields=["recipient_count"])
    audit.record(actor, "notice.sent", notice, changes={
        "area": [None, area.code], "title": [None, notice.title], "recipients": [None, len(deliveries)],
    })
    # Nothing leaves the building unless the notice committed.
    transaction.on_commit(lambda: deliver_notice(notice.pk, sender=sender))
    return notice


def deliver_notice(notice_id: int, *, sender=None) -> dict:
    """Hand the queued deliveries of a notice to the sender; returns {status: count} of this pass."""
    sender = sender or get_notice_sender()
    outcome = {}
    for delivery in NoticeDelivery.objects.filter(notice_id=notice_id, status=DeliveryStatus.QUEUED).select_related(
        "subject"
    ).order_by("id").iterator(chunk_size=500):
        error = ""
        try:
            status = sender.send(delivery)
        except Exception as exc:  # a gateway failure marks this delivery, not the whole notice
            status, error = DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:255]
        if status not in DeliveryStatus.values:
            status, error = DeliveryStatus.FAILED, f"sender returned {status!r}"[:255]
        outcome[status] = outcome.get(status, 0) + 1
        if status != DeliveryStatus.QUEUED:
            NoticeDelivery.objects.filter(pk=delivery.pk).update(status=status, attempted_at=timezone.now(), error=error)
    return outcome
