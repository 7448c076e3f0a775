"""A booking as people read it: the staff notice, the reminder, the agenda, the .ics file."""

import functools
from datetime import date, timedelta, tzinfo

from icalendar import Alarm, Calendar, Event, Timezone

from dialogs.callbacks import pack
from dialogs.i18n import _
from dialogs.messages import (
    Button,
    Context,
    Reply,
    StaffEdit,
    StaffNote,
    rows,
)
from dialogs.parsers import zone_of_phone
from dialogs.questions import (
    CONTACT,
    WAY_LABELS,
)
from storage import BookingStatus, BookingView

STATUS_LINES = {
    BookingStatus.PENDING: _("staff.status.pending"),
    BookingStatus.CONFIRMED: _("staff.status.confirmed"),
    BookingStatus.DECLINED: _("staff.status.declined"),
    BookingStatus.CANCELLED: _("staff.status.cancelled"),
    BookingStatus.EXPIRED: _("staff.status.expired"),
    BookingStatus.ATTENDED: _("staff.status.attended"),
    BookingStatus.NO_SHOW: _("staff.status.no_show"),
}
# The first line of a booking's notice, as it now stands: no "New request" once it is decided.
HEADINGS = {
    BookingStatus.PENDING: _("staff.heading.pending"),
    BookingStatus.DECLINED: _("staff.heading.declined"),
    BookingStatus.CANCELLED: _("staff.heading.cancelled"),
    BookingStatus.EXPIRED: _("staff.heading.expired"),
}
BOOKING_HEADING = _("staff.heading.booking")  # confirmed, held, no-show
# Why the staff cancel a booking: (the button and status line, what the client is told).
CANCEL_REASONS = {
    "asked": (_("cancel_reason.asked"), _("client.staff_cancelled.asked")),
    "unavailable": (_("cancel_reason.unavailable"), _("client.staff_cancelled.unavailable")),
    "duplicate": (_("cancel_reason.duplicate"), _("client.staff_cancelled.duplicate")),
    "other": (_("cancel_reason.other"), _("client.staff_cancelled.other")),
}
CLIENT_STATUS = {
    BookingStatus.PENDING: _("status.pending"),
    BookingStatus.CONFIRMED: _("status.confirmed"),
    BookingStatus.DECLINED: _("status.declined"),
    BookingStatus.CANCELLED: _("status.cancelled"),
    BookingStatus.EXPIRED: _("status.expired"),
    BookingStatus.ATTENDED: _("status.attended"),
    BookingStatus.NO_SHOW: _("status.no_show"),
}


def staff_text(ctx: Context, booking: BookingView) -> str:
    """The staff-group notice of a booking: contact details, never free-text answers."""
    staff = ctx.config.staff_lang
    answers = booking.answers
    org = ctx.store.find_active_org(booking.org_code)
    # The whole group reads this: that the client needs a prompt call, not why (Details say).
    flag = ctx.t(staff, "staff.urgent_flag") + "\n\n" if booking.urgent else ""
    body = ctx.t(
        staff,
        "staff.new_booking",
        heading=ctx.t(staff, HEADINGS.get(booking.status, BOOKING_HEADING), ref=booking.ref),
        when=ctx.t.when(booking.start, staff),
        way=way_name(ctx, booking.way, staff),
        consult_lang=ctx.t.language_name(booking.consult_lang, staff, title=False),
        org=f"{org.name} ({org.code})" if org else booking.org_code,
        **{key: answers.get(key, "") for key in CONTACT},
    )
    return f"{flag}{body}\n\n{status_line(ctx, booking)}"


def status_line(ctx: Context, booking: BookingView) -> str:
    """Where the booking stands, for the staff: who decided, and why the staff cancelled it."""
    staff = ctx.config.staff_lang
    who = booking.decided_by or ""
    if booking.status == BookingStatus.CANCELLED and booking.cancel_reason in CANCEL_REASONS:
        reason = ctx.t(staff, CANCEL_REASONS[booking.cancel_reason][0])
        return ctx.t(staff, "staff.status.cancelled_by_staff", who=who, reason=reason)
    return ctx.t(staff, STATUS_LINES[booking.status], who=who)


def staff_buttons(ctx: Context, booking: BookingView) -> list[list[Button]]:
    """A request: Confirm or Decline; one still to come: Cancel or Move; once its time has
    come, a confirmed one: Held or No-show. Details while a client's answers are kept."""
    staff = ctx.config.staff_lang
    ref = booking.ref

    def button(action: str, label: str) -> Button:
        return Button(pack("bk", action, ref), ctx.t(staff, label))

    details = [Button(pack("details", ref), ctx.t(staff, "staff.details_button"))]
    coming = booking.start > ctx.store.clock()
    change = [button("cancel", _("staff.cancel")), button("move", _("staff.move"))]
    if booking.status == BookingStatus.PENDING:
        decide = [
            Button(pack("staff", "confirm", ref), ctx.t(staff, "staff.confirm")),
            Button(pack("staff", "decline", ref), ctx.t(staff, "staff.decline")),
        ]
        return [decide, change, details] if coming else [decide, details]
    if booking.status == BookingStatus.CONFIRMED:
        mark = [button("held", _("staff.held")), button("noshow", _("staff.no_show"))]
        return [change if coming else mark, details]
    marked = (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)  # the consultant may still read
    return [details] if booking.status in marked else []


def cancel_reasons(ctx: Context, booking: BookingView) -> list[list[Button]]:
    """The notice's buttons while a Cancel asks why: the reasons, and Back."""
    staff = ctx.config.staff_lang
    reasons = [
        Button(pack("bk", "why", f"{booking.ref}:{key}"), ctx.t(staff, label))
        for key, (label, _client) in CANCEL_REASONS.items()
    ]
    back = Button(pack("bk", "back", booking.ref), ctx.t(staff, "staff.cancel_back"))
    return [*rows(reasons, 2), [back]]


def staff_note(ctx: Context, booking: BookingView) -> StaffNote:
    return StaffNote(staff_text(ctx, booking), booking.ref, staff_buttons(ctx, booking))


def staff_edit(ctx: Context, booking: BookingView) -> list[StaffEdit]:
    return [StaffEdit(booking.ref, staff_text(ctx, booking), staff_buttons(ctx, booking))]


def reminder(ctx: Context, booking: BookingView) -> Reply:
    lang = booking.client_lang
    return Reply(
        ctx.t(
            lang,
            "reminder.text",
            when=ctx.t.at(booking.start, lang, booking_zone(booking), False),
            way=way_name(ctx, booking.way, lang),
            ref=booking.ref,
        )
    )


def move_button(ctx: Context, booking: BookingView, lang: str) -> Button:
    """The "Choose another time" button: the day-and-time picker of /mybooking."""
    return Button(pack("mybooking", "move", booking.ref), ctx.t(lang, "mybooking.move"))


def booking_zone(booking: BookingView) -> tzinfo | None:
    """The client's own zone, from the phone number of their booking (None: the practice's)."""
    return zone_of_phone(booking.answers.get("phone"))


def way_name(ctx: Context, way: str, lang: str) -> str:
    """How a way of consulting reads in `lang` ("video call"); an unknown one as it is."""
    return ctx.t(lang, WAY_LABELS.get(way, way))


def video_link(ctx: Context, booking: BookingView) -> str | None:
    """The consultant's video room, for a video consultation with a consultant who has one."""
    if booking.way != "video" or not booking.consultant_id:
        return None
    consultant = ctx.store.consultant(booking.consultant_id)
    return consultant.video_url if consultant else None


def calendar_file(ctx: Context, booking: BookingView) -> tuple[str, bytes]:
    """An .ics event in the practice's time zone, for the client's own calendar. One event per
    booking (its UID), whose SEQUENCE a move raises, so calendars update it instead of adding
    another; a cancelled booking's file cancels it."""
    lang = booking.client_lang
    cancelled = booking.status == BookingStatus.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", "-//intake-bot//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.ref}@intake-bot")
    event.add("sequence", booking.sequence)
    confirmed = booking.status == BookingStatus.CONFIRMED  # a request not yet confirmed: tentative
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED" if confirmed else "TENTATIVE")
    event.add("summary", ctx.t(lang, "ics.summary", practice=ctx.config.practice_name))
    event.add("dtstart", booking.start)
    event.add("dtend", booking.start + timedelta(minutes=booking.minutes))
    event.add("dtstamp", ctx.store.clock())
    description = ctx.t(
        lang,
        "ics.description",
        way=way_name(ctx, booking.way, lang),
        ref=booking.ref,
        contact=ctx.config.practice_contact,
    )
    link = video_link(ctx, booking)
    if link:  # where calendars show a place, and a line of the description for those that don't
        event.add("location", link)
        event.add("url", link)
        description += "\n" + ctx.t(lang, "client.video_link", link=link)
    event.add("description", description)
    if not cancelled:
        alarm = Alarm()  # an hour before, on the client's own device
        alarm.add("action", "DISPLAY")
        alarm.add("description", ctx.t(lang, "ics.summary", practice=ctx.config.practice_name))
        alarm.add("trigger", timedelta(hours=-1))
        event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_component(vtimezone(ctx.store.schedule.tz, booking.start.year))
    return f"consultation-{booking.ref}.ics", calendar.to_ical()


def agenda(ctx: Context, argument: str) -> tuple[str, list[BookingView]]:
    """/agenda [YYYY-MM-DD]: today and tomorrow, or one day, per consultant; and the bookings
    it shows (whose clients' /mydata then says who saw them there)."""
    staff = ctx.config.staff_lang
    today = ctx.store.clock().astimezone(ctx.store.schedule.tz).date()
    try:
        days = [date.fromisoformat(argument)] if argument else [today, today + timedelta(1)]
    except ValueError:
        return ctx.t(staff, "agenda.usage"), []
    names = {c.id: c.name for c in ctx.store.consultants(active_only=False)}
    team = ctx.t(staff, "agenda.team")
    lines, shown = [], []
    for day in days:
        lines.append(ctx.t.long_day(day, staff).capitalize())
        bookings = ctx.store.agenda(day)
        shown += bookings
        if not bookings:
            lines.append(ctx.t(staff, "agenda.empty"))
        current = None
        for booking in bookings:
            if booking.consultant_id != current:
                current = booking.consultant_id
                lines.append(f"  {names.get(current) or team}:")
            status = ctx.t(staff, CLIENT_STATUS[booking.status])
            lines.append(
                f"    {ctx.t.clock(booking.start, staff)} {booking.ref} "
                f"{booking.answers.get('name', '—')} "
                f"({way_name(ctx, booking.way, staff)}, "
                f"{booking.consult_lang}) · {status}"
            )
        lines.append("")
    return "\n".join(lines).strip(), shown


@functools.cache
def vtimezone(zone: tzinfo, year: int) -> Timezone:
    """The zone's rules from that year for two years: enough for any booking, and built once
    (the whole 1970-2038 table took longer than the rest of a booking)."""
    return Timezone.from_tzinfo(zone, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))
