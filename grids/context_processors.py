from grids import accounts


def accounts_menu(request):
    """`may_manage_users` for the menu and the workbench: asked only when a template reads it."""
    user = getattr(request, "user", None)
    return {"may_manage_users": lambda: user is not None and accounts.may_manage_users(user)}
