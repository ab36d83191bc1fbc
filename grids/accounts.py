"""Accounts: a user has one role (a group) and is bound to areas. Lives in grids because areas do."""
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from core import audit
from core.exceptions import Forbidden, NotFound, ValidationFailed
from core.roles import ALL_ROLES, BUREAU_STAFF, has_role
from grids import selectors
from grids.choices import AreaKind
from grids.models import Area, AreaMembership


@transaction.atomic
def add_user(actor, *, username, role, area_codes, password=None, display_name=""):
    errors = {}
    if role not in ALL_ROLES:
        errors["role"] = [gettext("未知角色：%(role)s（可选：%(choices)s）。") % {"role": role, "choices": ", ".join(ALL_ROLES)}]
    areas = list(Area.objects.filter(code__in=area_codes))
    unknown = sorted(set(area_codes) - {a.code for a in areas})
    if unknown:
        errors["area"] = [gettext("未知区域编码：%(codes)s。") % {"codes": ", ".join(unknown)}]
    if not area_codes:
        errors["area"] = [gettext("至少绑定一个区域。")]
    if not username:
        errors["username"] = [gettext("此字段为必填项。")]
    elif len(username) > 150:
        errors["username"] = [gettext("最多 150 个字符。")]
    if password:
        try:
            validate_password(password)
        except ValidationError as exc:
            errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed(fields=errors)
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    before_groups = sorted(user.groups.values_list("name", flat=True)) if not created else []
    before_areas = sorted(user.area_memberships.values_list("area__code", flat=True)) if not created else []
    if display_name:
        user.first_name = display_name[:150]
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    # Bureau staff configure through the admin pages; a superuser keeps the admin whatever their role.
    user.is_staff = role == "bureau_staff" or user.is_superuser
    user.save()
    group, _ = Group.objects.get_or_create(name=role)
    user.groups.set([group])
    AreaMembership.objects.filter(user=user).exclude(area__in=areas).delete()
    for area in areas:
        AreaMembership.objects.get_or_create(user=user, area=area)
    audit.record(actor, "user.created" if created else "user.updated", user, changes={
        "role": [before_groups, [role]],
        "areas": [before_areas, sorted(a.code for a in areas)],
        **({"password": ["***", "***(changed)"]} if password else {}),
    })
    return user, created


# --- The user page (/users/): bureau staff bound to the district manage accounts ---------------------------

USER_AREA_KINDS = (AreaKind.DISTRICT, AreaKind.STREET, AreaKind.COMMUNITY, AreaKind.GRID, AreaKind.ZONE)


def may_manage_users(user) -> bool:
    """Bureau staff bound to the whole district (and superusers) manage accounts; nobody else."""
    return bool(getattr(user, "is_active", False)) and has_role(user, BUREAU_STAFF) \
        and selectors.user_area_paths(user) is None


def users_for(actor, *, role=None, area=None, active=None):
    """Accounts the actor may manage, with their role and areas: never a superuser, only users whose areas all
    lie in the actor's (for a district-bound actor: everyone). Filters: role name, an area (bound to it or
    below it), active (True/False)."""
    User = get_user_model()
    qs = User.objects.filter(is_superuser=False).prefetch_related("groups", "area_memberships__area").order_by("username")
    paths = selectors.user_area_paths(actor)
    if paths is not None:
        outside = AreaMembership.objects.exclude(selectors.scope_q(actor, "area__path") or Q()).values("user_id")
        qs = qs.exclude(pk__in=outside)
    if role:
        qs = qs.filter(groups__name=role)
    if area is not None:
        qs = qs.filter(area_memberships__area__path__startswith=area.path).distinct()
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def get_user_for(actor, user_id):
    try:
        return users_for(actor).get(pk=user_id)
    except (get_user_model().DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(gettext("用户不存在。"))


def role_of(user) -> str:
    return next(iter(sorted(user.groups.values_list("name", flat=True))), "")


def _area_codes(user) -> list[str]:
    return sorted(user.area_memberships.values_list("area__code", flat=True))


def _check_actor(actor):
    if not may_manage_users(actor):
        raise Forbidden(gettext("只有绑定全区的区综合执法局工作人员可以管理用户。"))


def _checked_fields(actor, *, role, areas, display_name) -> list[Area]:
    """The role, areas and name an editor may give: a known role, at least one area, every area within the
    editor's own (a refused area is a field error, not a silent drop)."""
    errors = {}
    if role not in ALL_ROLES:
        errors["role"] = [gettext("未知角色：%(role)s（可选：%(choices)s）。") % {"role": role, "choices": ", ".join(ALL_ROLES)}]
    areas = list(areas)
    if not areas:
        errors["areas"] = [gettext("至少绑定一个区域。")]
    outside = [a.name for a in areas if not selectors.user_covers_area(actor, a)]
    if outside:
        errors["areas"] = [gettext("不能绑定您辖区以外的区域：%(names)s。") % {"names": "、".join(outside)}]
    if len(display_name) > 150:
        errors["display_name"] = [gettext("最多 150 个字符。")]
    if errors:
        raise ValidationFailed(fields=errors)
    return areas


def _validated_password(password, user=None):
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(fields={"password": list(exc.messages)})
    return password


def _one_time_password() -> str:
    """A password to hand over once (12 letters and digits, no look-alikes); the user changes it."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _set_role_and_areas(user, role, areas):
    user.is_staff = role == BUREAU_STAFF  # bureau staff configure through the admin; never a superuser here
    user.save(update_fields=["is_staff"])
    group, _created = Group.objects.get_or_create(name=role)
    user.groups.set([group])
    AreaMembership.objects.filter(user=user).exclude(area__in=areas).delete()
    for area in areas:
        AreaMembership.objects.get_or_create(user=user, area=area)


@transaction.atomic
def create_user(actor, *, username, display_name, role, areas, password=None):
    """A new account with one role and its areas. Without a password one is generated: returned once, to
    show once. Returns (user, the generated password or None)."""
    _check_actor(actor)
    errors = {}
    User = get_user_model()
    try:
        User.username_validator(username)
    except ValidationError as exc:
        errors["username"] = list(exc.messages)
    if not username:
        errors["username"] = [gettext("此字段为必填项。")]
    elif len(username) > 150:
        errors["username"] = [gettext("最多 150 个字符。")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [gettext("用户名已存在。")]
    try:
        areas = _checked_fields(actor, role=role, areas=areas, display_name=display_name)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    generated = None
    if password:
        _validated_password(password, User(username=username, first_name=display_name))
    else:
        password = generated = _one_time_password()
    user = User(username=username, first_name=display_name, is_active=True)
    user.set_password(password)
    user.save()
    _set_role_and_areas(user, role, areas)
    audit.record(actor, "user.created", user, changes={
        "role": [None, role], "areas": [[], sorted(a.code for a in areas)], "display_name": [None, display_name],
        "is_active": [None, True], "password": [None, "***(generated)" if generated else "***"],
    })
    return user, generated


@transaction.atomic
def update_user(actor, user, *, display_name, role, areas):
    """Change an account's name, role and areas. Nobody changes their own role or areas here: an editor
    cannot grant themselves more than they have."""
    _check_actor(actor)
    user = get_user_for(actor, user.pk)
    areas = _checked_fields(actor, role=role, areas=areas, display_name=display_name)
    before = {"role": role_of(user), "areas": _area_codes(user), "display_name": user.first_name}
    after = {"role": role, "areas": sorted(a.code for a in areas), "display_name": display_name}
    if user.pk == actor.pk and (before["role"] != after["role"] or before["areas"] != after["areas"]):
        raise Forbidden(gettext("不能修改自己的角色或辖区。"))
    changes = audit.diff(before, after)
    if not changes:
        return user
    user.first_name = display_name
    user.save(update_fields=["first_name"])
    _set_role_and_areas(user, role, areas)
    audit.record(actor, "user.updated", user, changes=changes)
    return user


@transaction.atomic
def set_active(actor, user, *, active: bool):
    """Deactivate (the user can no longer sign in or use a token) or reactivate an account; not one's own."""
    _check_actor(actor)
    user = get_user_for(actor, user.pk)
    if user.pk == actor.pk:
        raise Forbidden(gettext("不能停用自己的账号。"))
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(actor, "user.activated" if active else "user.deactivated", user, changes={"is_active": [not active, active]})
    return user


@transaction.atomic
def reset_password(actor, user, *, password=None):
    """Set a password (validated) or, without one, generate a one-time password, returned to show once."""
    _check_actor(actor)
    user = get_user_for(actor, user.pk)
    generated = None
    if password:
        _validated_password(password, user)
    else:
        password = generated = _one_time_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    audit.record(actor, "user.password_reset", user, changes={"password": ["***", "***(generated)" if generated else "***(set)"]})
    return generated
