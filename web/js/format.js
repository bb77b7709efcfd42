// Dates for people, in the browser's locale and time zone (a Thai browser gets Thai month names).

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A local calendar day as "YYYY-MM-DD", to tell where a day separator goes. */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

export function dayLabel(iso, now = new Date()) {
  const key = dayKey(iso);
  if (key === dayKey(now.toISOString())) return "Today";
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday.toISOString())) return "Yesterday";
  return dayFormat.format(new Date(iso));
}

export function timeLabel(iso) {
  return timeFormat.format(new Date(iso));
}

export function fullLabel(iso) {
  return fullFormat.format(new Date(iso));
}

/** The list's compact stamp: the time today, else the date. */
export function listStamp(iso, now = new Date()) {
  return dayKey(iso) === dayKey(now.toISOString()) ? timeLabel(iso) : shortDayFormat.format(new Date(iso));
}
