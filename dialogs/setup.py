"""What the staff set-up lacks: `/setup` from an admin in the group, and the log at start.

Ids and consultants' display names only: nothing about any client."""

import logging

from dialogs import roles
from dialogs.i18n import _
from dialogs.messages import Context

log = logging.getLogger(__name__)


def report(ctx: Context, *, user_id: int, chat_id: int, staff_chat_id: int) -> str:
    """/setup: for an admin, each part of the set-up, done or missing and how to do it."""
    staff = ctx.config.staff_lang
    role = roles.role_for(ctx, user_id, "setup")
    if role is None:
        return roles.refusal(ctx, "setup")
    roles.audit(ctx, user_id, role, "setup")
    config, consultants = ctx.config, ctx.store.consultants()
    orgs = [org for org in ctx.store.list_orgs() if org.active]
    lines = [ctx.t(staff, "setup.title")]
    if chat_id == staff_chat_id:
        lines.append(ctx.t(staff, "setup.group_ok"))
    else:
        lines.append(ctx.t(staff, "setup.group_other", chat=chat_id, staff=staff_chat_id))
    lines.append(ctx.t(staff, "setup.admins", ids=_ids(config.admin_ids)))
    if config.staff_ids:
        lines.append(ctx.t(staff, "setup.coordinators", ids=_ids(config.staff_ids)))
    else:
        lines.append(ctx.t(staff, "setup.no_coordinators"))
    if consultants:
        names = ", ".join(f"{c.name} ({c.telegram_user_id})" for c in consultants)
        lines.append(ctx.t(staff, "setup.consultants", names=names))
    else:
        lines.append(ctx.t(staff, "setup.no_consultants"))
    if orgs:
        lines.append(ctx.t(staff, "setup.orgs", count=len(orgs)))
    else:
        lines.append(ctx.t(staff, "setup.no_orgs"))
    ready = chat_id == staff_chat_id and (config.staff_ids or consultants) and orgs
    lines += ["", ctx.t(staff, _("setup.ready") if ready else _("setup.not_ready"))]
    if consultants:
        lines.append(ctx.t(staff, "setup.open_private_chat"))
    return "\n".join(lines)


def log_staff(ctx: Context) -> None:
    """At start: who is configured, by role (ids, and the consultants' display names)."""
    config, consultants = ctx.config, ctx.store.consultants()
    log.info(
        "staff: %d admins (ADMIN_USER_IDS) %s; %d intake coordinators (STAFF_USER_IDS) %s; "
        "%d consultants %s",
        len(config.admin_ids),
        _ids(config.admin_ids),
        len(config.staff_ids),
        _ids(config.staff_ids),
        len(consultants),
        ", ".join(f"{c.id} {c.name} ({c.telegram_user_id})" for c in consultants) or "-",
    )
    if not config.staff_ids and not consultants:
        log.warning(
            "nobody can confirm a booking: set STAFF_USER_IDS or add a consultant "
            "(intake-bot staff add NAME --telegram-id ID); see README, Telegram set-up"
        )
    if not config.admin_ids:
        log.warning("no ADMIN_USER_IDS: nobody can use /setup in the staff group")


def _ids(ids) -> str:
    return ", ".join(str(i) for i in sorted(ids)) or "-"
