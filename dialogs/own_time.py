"""A consultant in their private chat with the bot: /timeoff FROM TO [note], /timeoff list,
/timeoff remove N and /myhours. The checks are those of `intake-bot staff timeoff`
(dialogs/timeoff.py). To anybody else these commands are unknown, as to any client."""

from dialogs import roles, timeoff
from dialogs.messages import Context, Reply
from dialogs.render import way_name

COMMANDS = ("timeoff", "myhours")


def command(ctx: Context, user_id: int, text: str) -> Reply | None:
    """The answer to a consultant's own command; None when it is not one (the intake's)."""
    words = text.split()
    name = words[0][1:].split("@")[0].lower() if words and words[0].startswith("/") else ""
    if name not in COMMANDS:
        return None
    role = roles.role_for(ctx, user_id, name)
    if role is None:
        return None
    consultant = ctx.store.consultant_by_telegram(user_id)
    staff, args = ctx.config.staff_lang, words[1:]
    if name == "myhours":
        text = _my_hours(ctx, consultant)
        action, ref = "myhours", None
    elif args == ["list"]:
        text = _listing(ctx, consultant.id)
        action, ref = "timeoff_list", None
    elif len(args) == 2 and args[0] == "remove" and args[1].isdigit():
        if not ctx.store.remove_time_off(consultant.id, int(args[1])):
            return Reply(ctx.t(staff, "timeoff.not_found", number=args[1]))
        text = ctx.t(staff, "timeoff.removed", number=args[1])
        action, ref = "timeoff_remove", args[1]
    elif len(args) >= 2 and args[0] not in ("list", "remove"):
        note = text.split(None, 3)[3] if len(args) > 2 else ""
        try:
            entered = timeoff.add(ctx.store, consultant.id, args[0], args[1], note, _zone(ctx))
        except timeoff.Refused as refused:
            said = ctx.t(staff, refused.msgid, **refused.params)
            return Reply(said + "\n\n" + ctx.t(staff, "timeoff.usage"))
        start, end = (moment.strftime("%Y-%m-%d %H:%M") for moment in (entered.start, entered.end))
        text = ctx.t(staff, "timeoff.added", number=entered.id, start=start, end=end)
        if entered.clashes:
            text += "\n\n" + ctx.t(staff, "timeoff.clashes", count=entered.clashes)
        action, ref = "timeoff_add", str(entered.id)
    else:
        return Reply(ctx.t(staff, "timeoff.usage"))
    roles.audit(ctx, user_id, role, action, ref)
    return Reply(text)


def _zone(ctx: Context):
    return ctx.store.schedule.tz


def _listing(ctx: Context, consultant_id: int) -> str:
    staff = ctx.config.staff_lang
    entries = timeoff.listing(ctx.store, consultant_id, _zone(ctx))
    if not entries:
        return ctx.t(staff, "timeoff.none")
    lines = [
        f"{number}. {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} {note}".rstrip()
        for number, start, end, note in entries
    ]
    return "\n".join([ctx.t(staff, "timeoff.list_title"), *lines])


def _my_hours(ctx: Context, consultant) -> str:
    staff = ctx.config.staff_lang
    text = ctx.t(
        staff,
        "myhours.text",
        hours=consultant.hours,
        zone=ctx.t.zone_name(ctx.store.clock().astimezone(_zone(ctx)), staff),
        languages=", ".join(
            ctx.t.language_name(c, staff, title=False) for c in consultant.languages
        ),
        ways=", ".join(way_name(ctx, way, staff) for way in consultant.ways),
    )
    return f"{text}\n\n{_listing(ctx, consultant.id)}"
