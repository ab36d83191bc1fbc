from core.roles import ROLE_LABELS, user_roles


def roles(request):
    names = user_roles(getattr(request, "user", None))
    return {"user_role_names": sorted(names), "user_role_labels": [ROLE_LABELS[r] for r in sorted(names) if r in ROLE_LABELS]}
