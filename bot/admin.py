"""`intake-bot org|staff|closure|audit|report|export|db|purge|rotate-key|generate-key`: the
admin's commands."""

import argparse
import fcntl
import time
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError

from bot.config import Settings
from bot.errors import fail
from bot.figures import add_figure_commands
from bot.wiring import open_store, purger
from dialogs import timeoff
from dialogs.i18n import Texts, _
from dialogs.questions import WAY_LABELS
from storage import open_database
from storage.consultants import CLOSURE
from storage.crypto import RELOAD_SECONDS, generate_key, write_key_file
from storage.migrate import current_revision


def add_admin_commands(commands) -> None:
    """Add the admin's sub-commands to the `intake-bot` parser."""
    org = commands.add_parser("org", help="manage partner organizations and their codes")
    org_commands = org.add_subparsers(required=True, metavar="ACTION")
    add = org_commands.add_parser("add", help="add an organization, or re-enable and rename it")
    add.add_argument("code", help="the code clients type (case and spaces are ignored)")
    add.add_argument("name", help="the organization's name, shown to staff")
    add.set_defaults(action=_org_add)
    org_commands.add_parser("list", help="list organizations").set_defaults(action=_org_list)
    disable = org_commands.add_parser("disable", help="stop accepting an organization's code")
    disable.add_argument("code")
    disable.set_defaults(action=_org_disable)

    _staff_commands(commands)
    audit = commands.add_parser(
        "audit",
        help="print the log of staff actions: who, as what, did what, when",
        description="Every Confirm, Decline, Details, /agenda, /setup, alert taken and time off "
        "entered from Telegram, oldest first: the time (the practice's), the Telegram user id, "
        "their role (admin, coordinator, consultant), the action and the booking reference or "
        "alert number. It holds no client data.",
    )
    audit.add_argument("--since", type=_since, help="from this day or time on (YYYY-MM-DD)")
    audit.set_defaults(action=_audit)
    _closure_commands(commands)
    add_figure_commands(commands)

    database = commands.add_parser(
        "db",
        help="manage the database schema",
        description="The schema is versioned with Alembic migrations (storage/migrations).",
    )
    db_actions = database.add_subparsers(required=True, metavar="ACTION")
    db_actions.add_parser(
        "upgrade",
        help="bring the schema of DATABASE_URL to the newest version",
        description="Runs the migrations the database has not had yet; running it again does "
        "nothing. Every command also does this when it starts. A database made before "
        "migrations existed is recognized and brought up to date.",
    ).set_defaults(action=_db_upgrade)

    purge = commands.add_parser(
        "purge",
        help="apply the retention rules now (the running bot also does it daily)",
        description="Delete intakes untouched for ABANDONED_INTAKE_DAYS and anonymize bookings "
        "whose date is more than BOOKING_RETENTION_DAYS ago.",
    )
    purge.set_defaults(action=_purge)
    rotate = commands.add_parser(
        "rotate-key",
        help="re-encrypt all stored personal data under a new key",
        description="With the key file (the default): writes a new key first in the file "
        "(running bots follow it within a second), re-encrypts everything in batches, and "
        "then keeps only the new key. Safe while bots run; after a crash, run it again and it "
        "goes on where it stopped. With INTAKE_DATA_KEY: restart every bot with "
        "INTAKE_DATA_KEY=new,old (`intake-bot generate-key` makes one), run this, then drop "
        "the old key. It refuses to finish while any value is still under an old key.",
    )
    rotate.set_defaults(action=_rotate_key)
    commands.add_parser(
        "generate-key", help="print a new random data key for INTAKE_DATA_KEY"
    ).set_defaults(action=lambda _args, _settings: print(generate_key()))


def _staff_commands(commands) -> None:
    staff = commands.add_parser(
        "staff",
        help="manage consultants: their languages, ways, hours and time off",
        description="Without any consultant, the practice's OPENING_HOURS form one team "
        "calendar. With consultants, each has their own hours, and a slot is offered when a "
        "consultant who speaks the client's language and offers their way is free.",
    )
    actions = staff.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a consultant")
    add.add_argument("name")
    add.add_argument(
        "--telegram-id",
        type=int,
        required=True,
        help="their Telegram user id (lets them confirm bookings)",
    )
    add.add_argument("--languages", default="bg,en", help="e.g. bg,en (default)")
    add.add_argument("--ways", default="video,phone,chat", help="e.g. video,phone")
    add.add_argument(
        "--hours",
        default="mon-fri 08:00-20:00",
        help='weekly hours, e.g. "mon-thu 09:00-17:00; fri 09:00-13:00"',
    )
    add.add_argument("--video-url", type=_video_url, default="", help=VIDEO_URL_HELP)
    add.set_defaults(action=_staff_add)
    actions.add_parser("list", help="list consultants").set_defaults(action=_staff_list)
    hours = actions.add_parser("hours", help="set a consultant's weekly hours")
    hours.add_argument("id", type=int)
    hours.add_argument("hours")
    hours.set_defaults(action=_staff_hours)
    off = actions.add_parser("timeoff", help="a consultant's time off, e.g. a holiday")
    off_actions = off.add_subparsers(required=True, metavar="ACTION")
    block = off_actions.add_parser("add", help="block a consultant's time")
    block.add_argument("id", type=int, help="the consultant, as staff list shows them")
    block.add_argument("start", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM, the practice's time")
    block.add_argument("end", help="YYYY-MM-DD (that whole day included) or YYYY-MM-DDTHH:MM")
    block.add_argument("--note", default="")
    block.set_defaults(action=_staff_timeoff)
    listed = off_actions.add_parser("list", help="list a consultant's time off")
    listed.add_argument("id", type=int, help="the consultant")
    listed.set_defaults(action=lambda args, settings: _time_off_list(settings, args.id))
    unblock = off_actions.add_parser("remove", help="open again what a time off blocked")
    unblock.add_argument("id", type=int, help="the consultant")
    unblock.add_argument("n", type=int, help="the time off, as staff timeoff list shows it")
    unblock.set_defaults(action=_staff_timeoff_remove)
    edit = actions.add_parser(
        "edit", help="change a consultant's name, languages, ways or video link"
    )
    edit.add_argument("id", type=int)
    edit.add_argument("--name", help="as clients and staff see it")
    edit.add_argument("--languages", help="e.g. bg,en")
    edit.add_argument("--ways", help="e.g. video,phone")
    edit.add_argument("--video-url", type=_video_url, help=VIDEO_URL_HELP + '; "" removes it')
    edit.set_defaults(action=_staff_edit)
    remove = actions.add_parser("remove", help="stop offering a consultant's time")
    remove.add_argument("id", type=int)
    remove.set_defaults(action=_staff_remove)


def _closure_commands(commands) -> None:
    closure = commands.add_parser(
        "closure",
        help="days the whole practice is closed (team building, the days between holidays)",
        description="No time in a closure is offered to clients, by any consultant. Public "
        "holidays (PUBLIC_HOLIDAYS) are closed already.",
    )
    actions = closure.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="close the practice; lists the bookings already then")
    add.add_argument("start", help="YYYY-MM-DD or YYYY-MM-DDTHH:MM, the practice's time")
    add.add_argument("end", help="YYYY-MM-DD (that whole day included) or YYYY-MM-DDTHH:MM")
    add.add_argument("--note", default="", help="what it is, for the staff")
    add.set_defaults(action=_closure_add)
    actions.add_parser("list", help="list closures").set_defaults(
        action=lambda _args, settings: _time_off_list(settings, CLOSURE)
    )
    remove = actions.add_parser("remove", help="open again what a closure closed")
    remove.add_argument("id", type=int, help="as closure list shows it")
    remove.set_defaults(action=_closure_remove)


def _closure_add(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    tz = ZoneInfo(settings.timezone)
    try:
        start, end = timeoff.period(args.start, args.end, tz, _("closure.ends_before"))
        closure_id = store.add_time_off(CLOSURE, start, end, args.note)
    except timeoff.Refused as refused:
        return fail(_said(refused.msgid, **refused.params))
    print(f"closure {closure_id}: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {args.note}")
    booked = store.bookings_between(start, end)
    if booked:  # taken before the closure: someone must move or cancel them
        print(f"{len(booked)} bookings already then; move or cancel them with the clients:")
    for booking in booked:
        print(f"  {booking.ref}\t{booking.start:%Y-%m-%d %H:%M}\t{booking.status}")
    return 0


def _time_off_list(settings: Settings, consultant_id: int) -> int:
    """A consultant's time off, or with CLOSURE the practice's closures: id, from, to, note."""
    store = open_store(settings)
    if consultant_id != CLOSURE and not any(c.id == consultant_id for c in store.consultants()):
        return _no_consultant(consultant_id)
    for number, start, end, note in timeoff.listing(
        store, consultant_id, ZoneInfo(settings.timezone)
    ):
        print(f"{number}\t{start:%Y-%m-%d %H:%M}\t{end:%Y-%m-%d %H:%M}\t{note}")
    return 0


def _closure_remove(args: argparse.Namespace, settings: Settings) -> int:
    if not open_store(settings).remove_time_off(CLOSURE, args.id):
        return fail(f"no closure with id {args.id} (intake-bot closure list shows them)", 1)
    print(f"removed closure {args.id}")
    return 0


def _staff_timeoff_remove(args: argparse.Namespace, settings: Settings) -> int:
    if not open_store(settings).remove_time_off(args.id, args.n):
        return fail(
            f"consultant {args.id} has no time off {args.n} "
            f"(intake-bot staff timeoff list {args.id} shows it)",
            1,
        )
    print(f"removed time off {args.n} of consultant {args.id}")
    return 0


def _since(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2026-12-01 or a time like 2026-12-01T09:00, not {text!r}"
        ) from None


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    tz = ZoneInfo(settings.timezone)
    since = args.since.replace(tzinfo=args.since.tzinfo or tz) if args.since else None
    for entry in open_store(settings).audit_entries(since):
        at = entry.at.astimezone(tz)
        print(
            f"{at:%Y-%m-%d %H:%M:%S}\t{entry.user_id}\t{entry.role}\t{entry.action}"
            f"\t{entry.ref or ''}"
        )
    return 0


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings.database_url)
    with engine.connect() as connection:
        print(f"database schema at revision {current_revision(connection)} (the newest)")
    engine.dispose()
    return 0


VIDEO_URL_HELP = (
    "their video room (https://...): sent to clients who chose a video call with them, "
    "in the confirmation and in the calendar file"
)


def _video_url(value: str) -> str:
    """An https link, or "" for none; argparse reports a ValueError's message."""
    value = value.strip()
    parts = urlsplit(value)
    if value and (parts.scheme != "https" or not parts.netloc or " " in value):
        raise argparse.ArgumentTypeError(f"not an https link: {value!r}")
    return value


def _check_offer(languages: str | None, ways: str | None) -> None:
    """ValueError unless every language code and way is one the bot knows."""
    try:
        for code in languages.split(",") if languages else []:
            Locale.parse(code)
    except UnknownLocaleError as error:
        raise ValueError(
            f"--languages: unknown language code {error.identifier!r}, e.g. bg,en"
        ) from None
    unknown = set(ways.split(",")) - set(WAY_LABELS) if ways else set()
    if unknown:
        raise ValueError(f"unknown ways {sorted(unknown)}; choose from {', '.join(WAY_LABELS)}")


def _staff_add(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    try:
        _check_offer(args.languages, args.ways)
        consultant = store.add_consultant(
            name=args.name,
            telegram_user_id=args.telegram_id,
            languages=args.languages,
            ways=args.ways,
            hours=args.hours,
            video_url=args.video_url or None,
        )
    except ValueError as error:
        return fail(str(error).splitlines()[0])
    print(f"added consultant {consultant.id}: {consultant.name}")
    return 0


def _staff_edit(args: argparse.Namespace, settings: Settings) -> int:
    changes = {k: v for k in ("name", "languages", "ways") if (v := getattr(args, k))}
    if args.video_url is not None:
        changes["video_url"] = args.video_url or None
    if not changes:
        return fail("nothing to change: give --name, --languages, --ways or --video-url")
    try:
        _check_offer(args.languages, args.ways)
    except ValueError as error:
        return fail(str(error))
    if not open_store(settings).edit_consultant(args.id, **changes):
        return _no_consultant(args.id)
    print(f"consultant {args.id}: " + ", ".join(f"{k} {v or '-'}" for k, v in changes.items()))
    return 0


def _staff_list(_args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    consultants = store.consultants(active_only=False)
    if not consultants:
        print(f"no consultants: one team calendar with OPENING_HOURS ({settings.opening_hours})")
    for c in consultants:
        state = "active" if c.active else "removed"
        print(
            f"{c.id}\t{c.name}\ttelegram {c.telegram_user_id}\t{','.join(c.languages)}\t"
            f"{','.join(c.ways)}\t{c.hours}\t{state}" + (f"\t{c.video_url}" if c.video_url else "")
        )
    return 0


def _staff_hours(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    try:
        done = store.set_consultant_hours(args.id, args.hours)
    except ValueError as error:
        return fail(str(error))
    if not done:
        return _no_consultant(args.id)
    print(f"hours of consultant {args.id}: {args.hours}")
    return 0


def _staff_timeoff(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    tz = ZoneInfo(settings.timezone)
    try:
        timeoff.period(args.start, args.end, tz, _("timeoff.ends_before"))  # checked first
        if not any(c.id == args.id for c in store.consultants()):
            return _no_consultant(args.id)
        entered = timeoff.add(store, args.id, args.start, args.end, args.note, tz)
    except timeoff.Refused as refused:
        return fail(_said(refused.msgid, **refused.params))
    start, end = entered.start, entered.end
    print(
        f"time off {entered.id} for consultant {args.id}: "
        f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
    )
    if entered.clashes:
        print(_said(_("timeoff.clashes"), count=entered.clashes))
    return 0


def _said(msgid: str, **params: object) -> str:
    """What the chat says, in English: the same checks, the same words (dialogs/timeoff.py)."""
    return Texts()("en", msgid, **params)


def _staff_remove(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    if not store.remove_consultant(args.id):
        return _no_consultant(args.id)
    print(f"removed consultant {args.id}; their bookings stay")
    return 0


def _no_consultant(consultant_id: int) -> int:
    return fail(f"no consultant with id {consultant_id} (intake-bot staff list shows them)", 1)


def _org_add(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    try:
        org = store.add_org(code=args.code, name=args.name)
    except ValueError as error:
        return fail(str(error))
    print(f"{org.code}\t{org.name}\tactive")
    return 0


def _org_list(_args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    for org in store.list_orgs():
        print(f"{org.code}\t{org.name}\t{'active' if org.active else 'disabled'}")
    return 0


def _org_disable(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    if not store.disable_org(args.code):
        return fail(f"no organization with code {args.code!r} (intake-bot org list shows them)", 1)
    print(f"disabled {args.code}")
    return 0


def _purge(_args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    intakes, bookings = purger(store, settings)()
    print(f"deleted {intakes} idle intakes, anonymized {bookings} old bookings")
    return 0


def _rotate_key(_args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    if settings.intake_data_key:
        return _seal_again(store, "the other keys of INTAKE_DATA_KEY can now be removed")
    key_file = settings.data_key_file
    lock = key_file.with_name(key_file.name + ".lock").open("a")  # closed, so freed, at exit
    try:  # released by the system if this process dies, so a crash leaves nothing to clean up
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        # Two rotations writing the key file at once would each drop the other's new key.
        return fail("another intake-bot rotate-key is running on this key file; nothing done", 1)
    keys = key_file.read_text().split()
    if len(keys) > 1:  # the file holds both keys only while a rotation runs
        print(f"resuming the rotation to key {store.cipher.current_id}, which did not finish")
    else:
        # The new key first, the old one after it: bots that follow the file (within a
        # second) seal with the new key and still open the old values.
        keys = [generate_key(), *keys]
        write_key_file(key_file, keys)
        store.cipher.reload()
        time.sleep(SETTLE_SECONDS)
    code = _seal_again(store, f"{key_file} now holds only the new key")
    if code == 0:
        write_key_file(key_file, keys[:1])
    return code


SETTLE_SECONDS = 2 * RELOAD_SECONDS  # running bots see a changed key file within this
PASSES = 5  # a bot still sealing with an old key shows up in every pass


def _seal_again(store, done: str) -> int:
    """Seal every value under the current key; refuse to finish while any is left under an
    old one (a bot still running with the old key first), so that nothing is stranded."""
    count = 0
    for _pass in range(PASSES):
        count += store.reseal()
        time.sleep(RELOAD_SECONDS)  # what a bot on an old key seals meanwhile shows up here
        left = store.not_current()
        if not left:
            print(f"re-encrypted {count} values under key {store.cipher.current_id}; {done}")
            return 0
    return fail(
        f"{left} values are still sealed under an old key: is a bot running with the old key "
        "first? Nothing was removed; run rotate-key again once every bot has the new key",
        1,
    )
