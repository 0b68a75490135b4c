import { Type } from '@sinclair/typebox';
import { AppError } from '../../errors.js';
import type { App, Platform } from '../../platform/module.js';
import { requireUser, type Actor } from '../../platform/policy.js';
import { addAddress, addDomain, authorizeAdmin, dnsRecords, listAddresses, listDomains, removeAddress, removeDomain, userAddresses, zoneLines } from './domains.js';

/**
 * Mail administration (administrators, from the web app): domains (with their DNS records), addresses
 * (aliases of users, distribution lists of groups, shared mailboxes of spaces) and the outbound queue.
 * And, for every user, their own addresses (GET /api/mail/addresses).
 */
const strict = { additionalProperties: false } as const;
const tags = ['mail'];
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z]+$' });
const DomainView = Type.Object({ id: Type.String(), name: Type.String(), isDefault: Type.Boolean(), dkimSelector: Type.String(), createdAt: Type.Number() });
const DnsRecordView = Type.Object({ type: Type.String(), name: Type.String(), value: Type.String() });
const AddressView = Type.Object({ id: Type.String(), address: Type.String(), targetType: Type.String(), targetId: Type.String(), isPrimary: Type.Boolean(), createdAt: Type.Number() });
const TargetType = Type.Union([Type.Literal('user'), Type.Literal('group'), Type.Literal('space')]);
const QueueItem = Type.Object({
  id: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  status: Type.String(),
  attempts: Type.Number(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  queuedAt: Type.Number(),
  recipients: Type.Array(Type.Object({ address: Type.String(), status: Type.String(), error: Type.Optional(Type.String()) })),
});

export function mailRoutes(app: App, platform: Platform): void {
  const ctx = (req: { actor: Actor; ip: string }) => ({ platform, actor: req.actor, ip: req.ip });

  app.get('/admin/mail/domains', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(DomainView) }) } } }, async (req) => {
    await authorizeAdmin(ctx(req));
    return { items: await listDomains(platform) };
  });

  app.post(
    '/admin/mail/domains',
    { schema: { tags, body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) }, strict), response: { 201: Type.Object({ item: DomainView, dns: Type.Array(DnsRecordView), zone: Type.Array(Type.String()) }) } } },
    async (req, reply) => {
      const item = await addDomain(ctx(req), req.body.name);
      const row = await platform.db.selectFrom('mail_domains').selectAll().where('id', '=', item.id).executeTakeFirstOrThrow();
      const dns = dnsRecords(row, platform.config.mailHostname);
      reply.code(201);
      return { item, dns, zone: zoneLines(dns) };
    },
  );

  app.get('/admin/mail/domains/:id/dns', { schema: { tags, params: Type.Object({ id: Id }, strict), response: { 200: Type.Object({ dns: Type.Array(DnsRecordView), zone: Type.Array(Type.String()) }) } } }, async (req) => {
    await authorizeAdmin(ctx(req));
    const row = await platform.db.selectFrom('mail_domains').selectAll().where('id', '=', req.params.id).executeTakeFirst();
    if (!row) throw new AppError('not_found');
    const dns = dnsRecords(row, platform.config.mailHostname);
    return { dns, zone: zoneLines(dns) };
  });

  app.delete('/admin/mail/domains/:id', { schema: { tags, params: Type.Object({ id: Id }, strict) } }, async (req, reply) => {
    await removeDomain(ctx(req), req.params.id);
    return reply.code(204).send();
  });

  app.get(
    '/admin/mail/addresses',
    {
      schema: {
        tags,
        querystring: Type.Object({ domainId: Type.Optional(Id), targetType: Type.Optional(TargetType), targetId: Type.Optional(Id) }, strict),
        response: { 200: Type.Object({ items: Type.Array(AddressView) }) },
      },
    },
    async (req) => {
      await authorizeAdmin(ctx(req));
      return { items: await listAddresses(platform, req.query) };
    },
  );

  app.post(
    '/admin/mail/addresses',
    {
      schema: {
        tags,
        body: Type.Object({ address: Type.String({ minLength: 3, maxLength: 320 }), targetType: TargetType, targetId: Id, primary: Type.Optional(Type.Boolean()) }, strict),
        response: { 201: Type.Object({ item: AddressView }) },
      },
    },
    async (req, reply) => {
      const item = await addAddress(ctx(req), req.body);
      reply.code(201);
      return { item };
    },
  );

  app.delete('/admin/mail/addresses/:id', { schema: { tags, params: Type.Object({ id: Id }, strict) } }, async (req, reply) => {
    await removeAddress(ctx(req), req.params.id);
    return reply.code(204).send();
  });

  app.get(
    '/admin/mail/queue',
    {
      schema: {
        tags,
        querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('queued'), Type.Literal('sent'), Type.Literal('failed')])) }, strict),
        response: { 200: Type.Object({ items: Type.Array(QueueItem) }) },
      },
    },
    async (req) => {
      await authorizeAdmin(ctx(req));
      let q = platform.db.selectFrom('mail_outbound').selectAll();
      if (req.query.status) q = q.where('status', '=', req.query.status);
      const rows = await q.orderBy('queued_at', 'desc').limit(500).execute();
      return {
        items: rows.map((r) => ({
          id: r.id,
          userId: r.user_id,
          from: r.mail_from,
          status: r.status,
          attempts: Number(r.attempts),
          lastError: r.last_error,
          queuedAt: Number(r.queued_at),
          recipients: (JSON.parse(r.recipients) as Array<{ address: string; status: string; error?: string }>).map((x) => ({ address: x.address, status: x.status, ...(x.error ? { error: x.error } : {}) })),
        })),
      };
    },
  );

  app.get('/mail/addresses', { schema: { tags, response: { 200: Type.Object({ items: Type.Array(Type.String()) }) } } }, async (req) => {
    const user = requireUser(req.actor);
    return { items: await userAddresses(platform.db, user.userId) };
  });
}
