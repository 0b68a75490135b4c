import { randomUUID } from 'node:crypto';
import { AppError } from '../../../errors.js';
import { freeBusyCalendar, parseIcal, propUtc, type BusyPeriod } from '../../../modules/calendar/ical.js';
import { normAddress, resolveAddress, resourceBusyPeriods, userAddresses, userBusy } from '../../../modules/calendar/scheduling.js';
import { depthHeader, readBody, readXml } from '../context.js';
import { clark, DAV_NS, esc } from '../xml.js';
import { CAL_NS, CS_NS, multistatus, NS_DECLS, optionalHeader, principalHref, type DavCtx } from './context.js';
import { parsePropRequest, propResponse } from './propfind.js';

/**
 * RFC 6638 scheduling collections of a user's calendar home: `inbox/` and `outbox/`.
 * Scheduling is implicit (the server delivers invitations and replies itself, `calendar-auto-schedule`),
 * so the inbox stays empty: clients find invitations already in the calendar, and notifications in the
 * web app. The outbox answers the POST of a VFREEBUSY request (§5: what Thunderbird and Apple Calendar
 * send to show attendees' availability) with each recipient's busy time.
 */
export const BOXES = ['inbox', 'outbox'] as const;
export type Box = (typeof BOXES)[number];
export const isBox = (slug: string | undefined): slug is Box => slug === 'inbox' || slug === 'outbox';

const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_RECIPIENTS = 50;
const MAX_RANGE_MS = 100 * 86_400_000;
const D = (l: string): string => clark(DAV_NS, l);
const C = (l: string): string => clark(CAL_NS, l);

export const boxHref = (login: string, box: Box): string => `/dav/calendars/${encodeURIComponent(login)}/${box}/`;

const PRIVILEGES: Record<Box, string> = {
  inbox: ['<D:read/>', '<D:unbind/>', '<C:schedule-deliver/>', '<C:schedule-deliver-invite/>', '<C:schedule-deliver-reply/>', '<C:schedule-query-freebusy/>'].map((p) => `<D:privilege>${p}</D:privilege>`).join(''),
  outbox: ['<D:read/>', '<C:schedule-send/>', '<C:schedule-send-invite/>', '<C:schedule-send-reply/>', '<C:schedule-send-freebusy/>'].map((p) => `<D:privilege>${p}</D:privilege>`).join(''),
};

function boxProp(d: DavCtx, box: Box, name: string): string | undefined {
  switch (name) {
    case D('resourcetype'):
      return `<D:collection/><C:schedule-${box}/>`;
    case D('displayname'):
      return box === 'inbox' ? 'Inbox' : 'Outbox';
    case D('owner'):
    case D('current-user-principal'):
      return `<D:href>${esc(principalHref(d.actor.login))}</D:href>`;
    case D('current-user-privilege-set'):
      return PRIVILEGES[box];
    case D('supported-report-set'):
      return box === 'inbox' ? '<D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report>' : '';
    case D('sync-token'):
    case clark(CS_NS, 'getctag'):
      return box === 'inbox' ? 'urn:bastide:inbox:0' : undefined;
    case C('supported-calendar-component-set'):
      return '<C:comp name="VEVENT"/><C:comp name="VTODO"/>';
    case C('schedule-default-calendar-URL'):
      return box === 'inbox' ? `<D:href>${esc(`${d.home}default/`)}</D:href>` : undefined;
    default:
      return undefined;
  }
}
const BOX_ALLPROP = [D('resourcetype'), D('displayname'), D('owner')];

/** PROPFIND responses for both boxes (the listing of a calendar home at depth 1). */
export function boxResponses(d: DavCtx, pr: ReturnType<typeof parsePropRequest>): string {
  return BOXES.map((b) => propResponse(boxHref(d.login, b), pr, (n) => boxProp(d, b, n), BOX_ALLPROP)).join('');
}

export async function scheduleBox(d: DavCtx, box: Box): Promise<void> {
  if (d.owner.type !== 'user' || d.owner.id !== d.actor.userId) throw new AppError('not_found');
  if (d.name !== undefined) throw new AppError('not_found');
  switch (d.req.method) {
    case 'PROPFIND': {
      const depth = depthHeader(d.req, 'infinity');
      if (depth !== '0' && depth !== '1') throw new AppError('forbidden', { precondition: 'propfind-finite-depth' });
      const body = await readXml(d.req);
      if (body && (body.ns !== DAV_NS || body.local !== 'propfind')) throw new AppError('bad_request', { reason: 'propfind_expected' });
      await multistatus(d.reply, propResponse(boxHref(d.login, box), parsePropRequest(body), (n) => boxProp(d, box, n), BOX_ALLPROP));
      return;
    }
    case 'REPORT': {
      const body = await readXml(d.req);
      if (!body) throw new AppError('bad_request', { reason: 'report body missing' });
      const sync = body.ns === DAV_NS && body.local === 'sync-collection';
      await multistatus(d.reply, '', sync ? '<D:sync-token>urn:bastide:inbox:0</D:sync-token>' : '');
      return;
    }
    case 'GET':
    case 'HEAD':
      await d.reply.status(200).type('text/plain; charset=utf-8').send(`${boxHref(d.login, box)}: the scheduling ${box} (RFC 6638).\n`);
      return;
    case 'POST':
      if (box === 'outbox') return outboxPost(d);
      throw new AppError('method_not_allowed');
    default:
      throw new AppError('method_not_allowed');
  }
}

const invalidMessage = (reason: string): AppError => new AppError('forbidden', { precondition: 'valid-scheduling-message', reason });

/** POST to the outbox: a VFREEBUSY request (METHOD:REQUEST) → a schedule-response with each recipient's busy time. */
async function outboxPost(d: DavCtx): Promise<void> {
  const type = optionalHeader(d.req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'text/calendar') throw new AppError('unsupported_media_type', { precondition: 'supported-calendar-data' });
  const raw = await readBody(d.req, MAX_REQUEST_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw).replace(/^\uFEFF/, '');
  } catch {
    throw new AppError('invalid_calendar_data', { precondition: 'valid-calendar-data', reason: 'not UTF-8' });
  }
  const vcal = parseIcal(text);
  if (String(vcal.getFirstPropertyValue('method') ?? '').toUpperCase() !== 'REQUEST') throw invalidMessage('only METHOD:REQUEST');
  const fb = vcal.getFirstSubcomponent('vfreebusy');
  // Scheduling is implicit: invitations and replies are sent by saving the event, not by POST.
  if (!fb) throw invalidMessage('only VFREEBUSY requests (scheduling is automatic)');
  const organizer = String(fb.getFirstPropertyValue('organizer') ?? '');
  if (!(await userAddresses(d.platform.db, d.actor.userId)).has(normAddress(organizer))) throw new AppError('forbidden', { precondition: 'organizer-allowed' });
  let from: number | null;
  let to: number | null;
  try {
    from = propUtc(fb, 'dtstart');
    to = propUtc(fb, 'dtend');
  } catch {
    throw invalidMessage('invalid DTSTART or DTEND');
  }
  if (from === null || to === null || !(to > from) || to - from > MAX_RANGE_MS) throw invalidMessage('DTSTART and DTEND: a range of at most 100 days');
  const recipients = fb.getAllProperties('attendee').map((p) => String(p.getFirstValue() ?? ''));
  if (recipients.length === 0 || recipients.length > MAX_RECIPIENTS) throw invalidMessage(`1 to ${MAX_RECIPIENTS} ATTENDEEs`);
  await d.platform.policy.authorize(d.actor, 'read-directory', { type: 'user', id: d.actor.userId });
  const uid = String(fb.getFirstPropertyValue('uid') ?? randomUUID());
  const now = d.platform.clock.now();
  let out = '';
  for (const r of recipients) {
    const party = await resolveAddress(d.platform.db, r);
    let periods: BusyPeriod[] | null = null;
    if (party.kind === 'user') periods = await userBusy(d.platform, party.id, from, to);
    else if (party.kind === 'resource') {
      const res = await d.platform.db.selectFrom('calendar_resources').select('collection_id').where('id', '=', party.id).executeTakeFirst();
      if (res) periods = await resourceBusyPeriods(d.kind.store, d.platform, res.collection_id, from, to);
    }
    const recipient = `<C:recipient><D:href>${esc(r)}</D:href></C:recipient>`;
    if (periods === null) {
      out += `<C:response>${recipient}<C:request-status>3.7;Invalid calendar user</C:request-status></C:response>`;
      continue;
    }
    const ics = freeBusyCalendar(periods, from, to, now)
      .replace('VERSION:2.0\r\n', 'VERSION:2.0\r\nMETHOD:REPLY\r\n')
      .replace('BEGIN:VFREEBUSY\r\n', `BEGIN:VFREEBUSY\r\nUID:${uid.replace(/[\r\n]/g, '')}\r\nORGANIZER:${organizer.replace(/[\r\n]/g, '')}\r\nATTENDEE:${r.replace(/[\r\n]/g, '')}\r\n`);
    out += `<C:response>${recipient}<C:request-status>2.0;Success</C:request-status><C:calendar-data>${esc(ics)}</C:calendar-data></C:response>`;
  }
  await d.reply.status(200).type('application/xml; charset=utf-8').send(`<?xml version="1.0" encoding="utf-8"?>\n<C:schedule-response ${NS_DECLS}>${out}</C:schedule-response>`);
}
