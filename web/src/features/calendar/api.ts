/** The calendar JSON API (/api/calendars/*), as the web app uses it. */
import { ApiError, api, getCsrfToken, withQuery } from '../../app/api';

export interface Calendar {
  id: string;
  slug: string;
  name: string;
  description: string;
  color: string;
  components: string[];
  syncToken: string;
  davUrl: string;
  /** Set on calendars others shared with me. */
  shared?: true;
  permission?: string;
  owner?: { id: string; login: string; displayName: string };
}

export interface Occurrence {
  objectId: string;
  uid: string;
  etag: string;
  component: string;
  recurring: boolean;
  recurrenceId: string | null;
  start: string | null;
  end: string | null;
  allDay: boolean;
  summary: string;
  location: string;
  description: string;
  status: string;
}

export interface Alarm {
  minutesBefore: number;
}

export interface EventDetails {
  id: string;
  uid: string;
  etag: string;
  recurring: boolean;
  summary: string;
  location: string;
  description: string;
  status: string;
  allDay: boolean;
  start: string;
  end: string;
  timeZone: string | null;
  rrule: string | null;
  complexRecurrence: boolean;
  exceptions: number;
  alarms: Alarm[];
  otherAlarms: number;
  organizer: { name: string; email: string } | null;
  attendees: Array<{ name: string; email: string; partstat: string; role: string }>;
}

export interface EventInput {
  summary: string;
  start: string;
  end?: string;
  allDay?: boolean;
  timeZone?: string;
  location?: string;
  description?: string;
  rrule?: string | null;
  alarms?: Alarm[];
}

export interface ObjectRef {
  id: string;
  uid: string;
  etag: string;
}

export type Scope = 'this' | 'following' | 'all';

export const calendarsKey = ['calendar', 'list'] as const;
export const occurrencesKey = (id: string, from: string, to: string) => ['calendar', 'occurrences', id, from, to] as const;
export const detailsKey = (calendarId: string, objectId: string, recurrenceId: string | null) => ['calendar', 'details', calendarId, objectId, recurrenceId ?? ''] as const;

const base = (id: string) => `/api/calendars/${encodeURIComponent(id)}`;

export const sharedKey = ['calendar', 'shared'] as const;
export const listShared = (signal?: AbortSignal) => api.get<{ calendars: Calendar[] }>('/api/calendars/shared', { signal });
export const canWrite = (c: Calendar): boolean => !c.shared || c.permission === 'write';
export const listCalendars = (signal?: AbortSignal) => api.get<{ calendars: Calendar[] }>('/api/calendars', { signal });
export const createCalendar = (b: { name: string; color: string }) => api.post<Calendar>('/api/calendars', b);
export const updateCalendar = (id: string, b: { name?: string; color?: string }) => api.patch<Calendar>(base(id), b);
export const deleteCalendar = (id: string) => api.del(base(id));
export const listOccurrences = (id: string, from: string, to: string, signal?: AbortSignal) =>
  api.get<{ occurrences: Occurrence[] }>(withQuery(`${base(id)}/events`, { from, to }), { signal });
export const getDetails = (calendarId: string, objectId: string, recurrenceId: string | null, signal?: AbortSignal) =>
  api.get<EventDetails>(withQuery(`${base(calendarId)}/events/${encodeURIComponent(objectId)}`, { recurrenceId }), { signal });
export const getObject = (calendarId: string, objectId: string) => api.get<{ ics: string; etag: string }>(`${base(calendarId)}/objects/${encodeURIComponent(objectId)}`);
export const createEvent = (calendarId: string, b: EventInput) => api.post<ObjectRef>(`${base(calendarId)}/events`, b);
export const updateEvent = (calendarId: string, objectId: string, b: EventInput & { etag?: string }) => api.put<ObjectRef>(`${base(calendarId)}/events/${encodeURIComponent(objectId)}`, b);
export const editOccurrence = (calendarId: string, objectId: string, b: { recurrenceId: string; scope: 'this' | 'following'; event: EventInput; etag?: string }) =>
  api.put<{ updated: ObjectRef | null; created: ObjectRef | null }>(`${base(calendarId)}/events/${encodeURIComponent(objectId)}/occurrence`, b);
export const deleteObject = (calendarId: string, objectId: string) => api.del(`${base(calendarId)}/objects/${encodeURIComponent(objectId)}`);
export const deleteOccurrence = (calendarId: string, objectId: string, recurrenceId: string, scope: 'this' | 'following') =>
  api.del(withQuery(`${base(calendarId)}/events/${encodeURIComponent(objectId)}/occurrence`, { recurrenceId, scope }));
export const exportUrl = (id: string) => `${base(id)}/export`;

/** Imports an .ics file with upload progress (0..1). */
export function importIcs(id: string, file: Blob, onProgress: (f: number) => void): Promise<{ imported: number; failed: Array<{ uid: string; code: string }> }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${base(id)}/import`);
    xhr.setRequestHeader('Content-Type', 'text/calendar');
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = getCsrfToken();
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new ApiError(0, 'network', 'The server could not be reached.'));
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data as { imported: number; failed: Array<{ uid: string; code: string }> });
      const e = (data as { error?: { code?: string; message?: string } } | null)?.error;
      reject(new ApiError(xhr.status, e?.code ?? (xhr.status >= 500 ? 'internal' : 'unknown'), e?.message ?? xhr.statusText));
    };
    xhr.send(file);
  });
}

// ---- scheduling (attendees, answers, free/busy): the routes of the scheduling module

export interface AttendeeView {
  address: string;
  email: string | null;
  name: string;
  userId: string | null;
  resourceId: string | null;
  cutype: string;
  role: string;
  partstat: string;
  self: boolean;
}
export interface AttendeeList {
  organizer: AttendeeView | null;
  attendees: AttendeeView[];
  role: string;
  myPartstat: string | null;
}
export type AttendeeInput = { userId: string } | { email: string; name?: string };
export type Partstat = 'ACCEPTED' | 'TENTATIVE' | 'DECLINED';

export const attendeesKey = (calendarId: string, objectId: string, recurrenceId: string | null) => ['calendar', 'attendees', calendarId, objectId, recurrenceId ?? ''] as const;
export const getAttendees = (calendarId: string, objectId: string, recurrenceId: string | null, signal?: AbortSignal) =>
  api.get<AttendeeList>(withQuery(`${base(calendarId)}/events/${encodeURIComponent(objectId)}/attendees`, { recurrenceId }), { signal });
export const setAttendees = (calendarId: string, objectId: string, attendees: AttendeeInput[]) =>
  api.put<{ etag: string }>(`${base(calendarId)}/events/${encodeURIComponent(objectId)}/attendees`, { attendees });
export const replyTo = (calendarId: string, objectId: string, partstat: Partstat, recurrenceId?: string) =>
  api.post<ObjectRef>(`${base(calendarId)}/events/${encodeURIComponent(objectId)}/reply`, recurrenceId ? { partstat, recurrenceId } : { partstat });
export const freeBusy = (userIds: string[], from: string, to: string, signal?: AbortSignal) =>
  api.get<{ users: Array<{ id: string; busy: Array<{ start: string; end: string; type: string }> }> }>(withQuery('/api/calendars/freebusy', { users: userIds.join(','), from, to }), { signal });
export const searchDirectory = (q: string, signal?: AbortSignal) =>
  api.get<{ items: Array<{ id: string; login: string; displayName: string; email: string | null }> }>(withQuery('/api/directory/users', { q }), { signal });
