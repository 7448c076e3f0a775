"""After booking: the staff's Confirm and Decline, /mybooking, reminders, /agenda, .ics files."""

import functools
import logging
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, Timezone

from dialogs.i18n import _
from dialogs.messages import Button, Outcome, Reply, StaffEdit, StaffNote, State, Turn
from dialogs.questions import CRISIS_LABELS, WAY_LABELS
from storage import BookingView, SlotTaken

if TYPE_CHECKING:
    from dialogs.engine import IntakeEngine

log = logging.getLogger(__name__)

STATUS_LINES = {
    "pending": _("staff.status.pending"),
    "confirmed": _("staff.status.confirmed"),
    "declined": _("staff.status.declined"),
    "cancelled": _("staff.status.cancelled"),
}
CLIENT_STATUS = {
    "pending": _("status.pending"),
    "confirmed": _("status.confirmed"),
    "declined": _("status.declined"),
    "cancelled": _("status.cancelled"),
}


class BookingMixin:
    """Part of IntakeEngine: a booking's life after the client confirms it."""

    # What the staff group sees

    def is_staff(self: "IntakeEngine", telegram_user_id: int) -> bool:
        """Consultants and the ids in STAFF_USER_IDS may act on bookings and open details."""
        return telegram_user_id in self.config.staff_ids or (
            self.store.consultant_by_telegram(telegram_user_id) is not None
        )

    def staff_text(self: "IntakeEngine", booking: BookingView) -> str:
        """The staff-group notice of a booking: contact details, never free-text answers."""
        staff = self.config.staff_lang
        answers = booking.answers
        org = self.store.find_active_org(booking.org_code)
        flag = ""
        if booking.urgent:
            category = self.t(staff, CRISIS_LABELS[booking.urgent])
            flag = self.t(staff, "staff.urgent_flag", category=category) + "\n\n"
        body = self.t(
            staff,
            "staff.new_booking",
            ref=booking.ref,
            when=self.t.when(booking.start, staff),
            way=self.way_name(booking.way, staff),
            consult_lang=self.t.language_name(booking.consult_lang, staff, title=False),
            org=f"{org.name} ({org.code})" if org else booking.org_code,
            name=answers.get("name", ""),
            phone=answers.get("phone", ""),
            email=answers.get("email", ""),
        )
        status = self.t(staff, STATUS_LINES[booking.status], who=booking.decided_by or "")
        return f"{flag}{body}\n\n{status}"

    def staff_buttons(self: "IntakeEngine", booking: BookingView) -> list[list[Button]]:
        staff = self.config.staff_lang
        details = [Button(f"details:{booking.ref}", self.t(staff, "staff.details_button"))]
        if booking.status == "pending":
            return [
                [
                    Button(f"staff:confirm:{booking.ref}", self.t(staff, "staff.confirm")),
                    Button(f"staff:decline:{booking.ref}", self.t(staff, "staff.decline")),
                ],
                details,
            ]
        return [details] if booking.status == "confirmed" else []

    def _staff_note(self: "IntakeEngine", booking: BookingView) -> StaffNote:
        return StaffNote(self.staff_text(booking), booking.ref, self.staff_buttons(booking))

    def _staff_edit(self: "IntakeEngine", booking: BookingView) -> list[StaffEdit]:
        return [StaffEdit(booking.ref, self.staff_text(booking), self.staff_buttons(booking))]

    def staff_action(
        self: "IntakeEngine", *, ref: str, action: str, staff_user_id: int, staff_name: str
    ) -> tuple[str, Outcome]:
        """Confirm or Decline tapped in the staff group: (answer to the tap, what to send)."""
        staff = self.config.staff_lang
        out = Outcome()
        if not self.is_staff(staff_user_id):
            return self.t(staff, "staff.not_authorized"), out
        consultant = self.store.consultant_by_telegram(staff_user_id)
        name = consultant.name if consultant else staff_name
        result, booking = self.store.decide(
            ref=ref,
            action="confirm" if action == "confirm" else "decline",
            staff_name=name,
            consultant_id=consultant.id if consultant else None,
        )
        if booking is None:
            return self.t(staff, "staff.details_gone"), out
        if result == "busy":
            return self.t(staff, "staff.busy"), out
        if result == "already":
            status = self.t(staff, STATUS_LINES[booking.status], who=booking.decided_by or "")
            return self.t(staff, "staff.already", status=status), out
        log.info("booking %s %s by staff", ref, booking.status)
        out.staff_edits += self._staff_edit(booking)
        lang = booking.client_lang
        when = self.t.when(booking.start, lang)
        if booking.status == "confirmed":
            message = Reply(self.t(lang, "client.confirmed", when=when, consultant=name))
        else:
            message = Reply(
                self.t(lang, "client.declined", when=when),
                [[Button(f"mybooking:move:{ref}", self.t(lang, "mybooking.move"))]],
            )
        if booking.user_id:
            out.to_clients.append((booking.chat_id, message))
        return self.t(staff, "staff.done"), out

    # /mybooking

    def _my_booking(self: "IntakeEngine", state: State | None, turn: Turn) -> State | None:
        lang = state.lang if state else turn.hint
        upcoming = self.store.bookings_of(turn.user_id)
        if not upcoming:
            turn.out.replies.append(Reply(self.t(lang, "mybooking.none")))
            return state
        for booking in upcoming:
            text = self.t(
                lang,
                "mybooking.line",
                ref=booking.ref,
                when=self.t.when(booking.start, lang),
                way=self.way_name(booking.way, lang),
                status=self.t(lang, CLIENT_STATUS[booking.status]),
            )
            turn.out.replies.append(
                Reply(
                    text,
                    [
                        [
                            Button(f"mybooking:move:{booking.ref}", self.t(lang, "mybooking.move")),
                            Button(
                                f"mybooking:cancel:{booking.ref}", self.t(lang, "mybooking.cancel")
                            ),
                        ]
                    ],
                )
            )
        return state

    def _booking_choice(
        self: "IntakeEngine", state: State | None, data: str, turn: Turn
    ) -> State | None:
        lang = state.lang if state else turn.hint
        _space, _sep, rest = data.partition(":")
        action, _sep, ref = rest.partition(":")
        booking = self.store.booking(ref)
        if booking is None or booking.user_id != turn.user_id:
            turn.out.replies.append(Reply(self.t(lang, "error.stale_button")))
            return state
        if action == "cancel":
            turn.out.replies.append(
                Reply(
                    self.t(lang, "mybooking.cancel_confirm", when=self.t.when(booking.start, lang)),
                    [
                        [
                            Button(
                                f"mybooking:cancelyes:{ref}", self.t(lang, "mybooking.cancel_yes")
                            ),
                            Button(f"mybooking:keep:{ref}", self.t(lang, "mybooking.keep")),
                        ]
                    ],
                )
            )
        elif action == "cancelyes":
            cancelled = self.store.cancel(ref=ref, user_id=turn.user_id)
            if cancelled is None:
                turn.out.replies.append(Reply(self.t(lang, "error.stale_button")))
            else:
                log.info("booking %s cancelled by the client", ref)
                turn.out.replies.append(Reply(self.t(lang, "mybooking.cancelled")))
                turn.out.staff_edits += self._staff_edit(cancelled)
        elif action == "keep":
            turn.out.replies.append(Reply(self.t(lang, "mybooking.kept")))
        elif action == "move" and booking.status in ("pending", "confirmed", "declined"):
            state = state or State(lang=lang, step="done")
            state.rescheduling, state.resume, state.week = ref, state.step, 0
            state.step = "day"
            self._ask(state, turn.out)
        else:
            turn.out.replies.append(Reply(self.t(lang, "error.stale_button")))
        return state

    def _reschedule_to(self: "IntakeEngine", state: State, start: datetime, turn: Turn) -> State:
        """The last step of a move: the booking takes the new slot in one statement."""
        lang = state.lang
        try:
            moved = self.store.reschedule(ref=state.rescheduling, user_id=turn.user_id, start=start)
        except SlotTaken:
            turn.out.replies.append(Reply(self.t(lang, "error.slot_gone")))
            state.step = "day"
            self._ask(state, turn.out)
            return state
        log.info("booking %s moved by the client", moved.ref)
        state.step, state.rescheduling, state.resume = state.resume or "done", None, None
        turn.out.replies.append(
            Reply(
                self.t(lang, "mybooking.moved", when=self.t.when(moved.start, lang), ref=moved.ref),
                document=self.calendar_file(moved),
            )
        )
        turn.out.staff_edits += self._staff_edit(moved)
        if state.step != "done":
            self._ask(state, turn.out)
        return state

    # Reminders, the calendar file, the waiting list, the agenda

    def reminder(self: "IntakeEngine", booking: BookingView) -> Reply:
        lang = booking.client_lang
        return Reply(
            self.t(
                lang,
                "reminder.text",
                when=self.t.when(booking.start, lang),
                way=self.way_name(booking.way, lang),
                ref=booking.ref,
                zone=self.store.schedule.tz.key,
            )
        )

    def way_name(self: "IntakeEngine", way: str, lang: str) -> str:
        """How a way of consulting reads in `lang` ("video call"); an unknown one as it is."""
        return self.t(lang, WAY_LABELS.get(way, way))

    def calendar_file(self: "IntakeEngine", booking: BookingView) -> tuple[str, bytes]:
        """An .ics event in the practice's time zone, for the client's own calendar."""
        lang = booking.client_lang
        calendar = Calendar()
        calendar.add("prodid", "-//intake-bot//EN")
        calendar.add("version", "2.0")
        event = Event()
        event.add("uid", f"{booking.ref}@intake-bot")
        event.add("summary", self.t(lang, "ics.summary", practice=self.config.practice_name))
        event.add("dtstart", booking.start)
        event.add("dtend", booking.start + timedelta(minutes=self.store.schedule.session_minutes))
        event.add("dtstamp", self.store.clock())
        event.add(
            "description",
            self.t(
                lang,
                "ics.description",
                way=self.way_name(booking.way, lang),
                ref=booking.ref,
                contact=self.config.practice_contact,
            ),
        )
        calendar.add_component(event)
        calendar.add_component(_vtimezone(self.store.schedule.tz, booking.start.year))
        return f"consultation-{booking.ref}.ics", calendar.to_ical()

    def _join_waitlist(self: "IntakeEngine", state: State, turn: Turn) -> State:
        answers = state.answers
        contact = {key: answers[key] for key in ("name", "phone", "email") if key in answers}
        self.store.join_waitlist(
            user_id=turn.user_id,
            chat_id=turn.chat_id,
            way=answers.get("way", ""),
            consult_lang=answers.get("consult_lang", ""),
            client_lang=state.lang,
            contact=contact,
        )
        staff = self.config.staff_lang
        unknown = self.t(staff, "crisis.not_given")
        turn.out.staff.append(
            StaffNote(
                self.t(
                    staff,
                    "staff.waitlist",
                    name=contact.get("name", unknown),
                    phone=contact.get("phone", unknown),
                    email=contact.get("email", unknown),
                    way=self.way_name(answers.get("way", "video"), staff),
                    consult_lang=self.t.language_name(
                        answers.get("consult_lang", staff), staff, title=False
                    ),
                )
            )
        )
        turn.out.replies.append(Reply(self.t(state.lang, "waitlist.joined")))
        return state

    def agenda(self: "IntakeEngine", argument: str) -> str:
        """/agenda [YYYY-MM-DD]: today and tomorrow, or one day, per consultant."""
        staff = self.config.staff_lang
        today = self.store.clock().astimezone(self.store.schedule.tz).date()
        try:
            days = [date.fromisoformat(argument)] if argument else [today, today + timedelta(1)]
        except ValueError:
            return self.t(staff, "agenda.usage")
        names = {c.id: c.name for c in self.store.consultants(active_only=False)}
        team = self.t(staff, "agenda.team")
        lines = []
        for day in days:
            lines.append(self.t.long_day(day, staff).capitalize())
            bookings = self.store.agenda(day)
            if not bookings:
                lines.append(self.t(staff, "agenda.empty"))
            current = None
            for booking in bookings:
                if booking.consultant_id != current:
                    current = booking.consultant_id
                    lines.append(f"  {names.get(current) or team}:")
                status = self.t(staff, CLIENT_STATUS[booking.status])
                lines.append(
                    f"    {self.t.clock(booking.start, staff)} {booking.ref} "
                    f"{booking.answers.get('name', '—')} "
                    f"({self.way_name(booking.way, staff)}, "
                    f"{booking.consult_lang}) · {status}"
                )
            lines.append("")
        return "\n".join(lines).strip()


@functools.cache
def _vtimezone(zone: tzinfo, year: int) -> Timezone:
    """The zone's rules from that year for two years: enough for any booking, and built once
    (the whole 1970-2038 table took longer than the rest of a booking)."""
    return Timezone.from_tzinfo(zone, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))
