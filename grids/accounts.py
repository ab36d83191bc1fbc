"""Accounts: a user has one role (a group) and is bound to areas. Lives in grids because areas do."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from core import audit
from core.exceptions import ValidationFailed
from core.roles import ALL_ROLES
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
