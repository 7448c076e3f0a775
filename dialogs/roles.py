"""Who may do what among the staff, and the audit log of what they did.

Admins are ADMIN_USER_IDS, intake coordinators STAFF_USER_IDS, consultants those in the store
(intake-bot staff add) by their Telegram id; one person may have several roles."""

from dialogs.i18n import _
from dialogs.messages import Context

ADMIN, COORDINATOR, CONSULTANT = "admin", "coordinator", "consultant"
STAFF = (COORDINATOR, CONSULTANT)

# Each staff action: the roles that may do it, and what anybody else who tries is told.
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "confirm": (STAFF, _("roles.denied.confirm")),
    "decline": (STAFF, _("roles.denied.decline")),
    "details": (STAFF, _("staff.not_authorized")),
    # Cancel, Move, Held, No-show: of a booking of their own, for a consultant.
    "manage": (STAFF, _("staff.manage_refused")),
    "agenda": (STAFF, _("agenda.staff_only")),
    "take_alert": ((ADMIN, *STAFF), _("staff.alert_not_authorized")),
    "setup": ((ADMIN,), _("roles.denied.setup")),
    "timeoff": ((CONSULTANT,), ""),  # anybody else is a client: nothing to refuse
    "myhours": ((CONSULTANT,), ""),
}


def roles_of(ctx: Context, user_id: int) -> list[str]:
    """The roles of a Telegram user, the widest first; [] for anybody else."""
    roles = [ADMIN] if user_id in ctx.config.admin_ids else []
    if user_id in ctx.config.staff_ids:
        roles.append(COORDINATOR)
    if ctx.store.consultant_by_telegram(user_id) is not None:
        roles.append(CONSULTANT)
    return roles


def role_for(ctx: Context, user_id: int, action: str) -> str | None:
    """The role under which `user_id` may do `action`, or None if they may not."""
    allowed = ACTIONS[action][0]
    return next((role for role in roles_of(ctx, user_id) if role in allowed), None)


def refusal(ctx: Context, action: str) -> str:
    """What someone who may not do `action` is told, in the staff's language."""
    return ctx.t(ctx.config.staff_lang, ACTIONS[action][1])


def audit(ctx: Context, user_id: int, role: str, action: str, ref: str | None = None) -> None:
    """Log a staff action in the update's transaction: it is kept exactly when the action is."""
    ctx.store.record_audit(user_id=user_id, role=role, action=action, ref=ref)
