"""Timeline notes the platform writes itself (auto-dispatch, SLA breaches, photos, merges), readable in
the reader's language although they are stored.

A note is stored twice, in one row: `note` holds the text in the default language (zh-hans: what exports,
the admin and older readers show), and `data["note_i18n"]` holds its parts as [msgid, params] pairs. A
reader renders the parts in the language of its request (`render`). String params that are themselves
msgids (a stage's or a photo kind's label) are translated too; names and numbers pass through. Notes
typed by people (a reason, a result) and every note written before this existed have no parts: they are
shown as stored, so old rows stay readable unchanged.

Writers pass msgids marked with gettext_lazy (so makemessages collects them); `compose` stores them in
the default language whatever the language of the request that wrote them.
"""
from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

KEY = "note_i18n"
SEPARATOR = _("；")


def _plain(value):
    return str(value) if isinstance(value, Promise) else value


def _render(parts) -> str:
    out = []
    for msgid, params in parts:
        text = gettext(msgid)
        if params:
            text = text % {k: gettext(v) if isinstance(v, str) and v else v for k, v in params.items()}
        out.append(text)
    return str(SEPARATOR).join(out)


def compose(*parts) -> tuple[str, dict]:
    """(stored text, data to merge into the timeline row's data) for parts given as (msgid, params)
    pairs (params may be None). The stored text is in the default language."""
    with translation.override(settings.LANGUAGE_CODE):
        plain = [[str(msgid), {k: _plain(v) for k, v in (params or {}).items()}] for msgid, params in parts if msgid]
        return _render(plain), {KEY: plain}


def render(note: str, data) -> str:
    """The note of a timeline row in the current language (as stored when it has no parts)."""
    parts = data.get(KEY) if isinstance(data, dict) else None
    if not parts:
        return note
    try:
        return _render(parts)
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder: the stored text
        return note
