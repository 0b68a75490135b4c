import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../errors.js';
import { Policy, hasScope, requireUser, type Actor, type Resource } from './policy.js';
import { auditRule, groupRule, userRule } from '../modules/identity/policy.js';
import { spaceRule } from '../modules/spaces/index.js';

/**
 * The policy matrix: actor × action × resource for the rules the identity and spaces modules register,
 * checked through the one `Policy.can` every route asks.
 */
const ME = '01HZZZZZZZZZZZZZZZZZZZZZ01';
const OTHER = '01HZZZZZZZZZZZZZZZZZZZZZ02';

const anonymous: Actor = { kind: 'anonymous' };
const system: Actor = { kind: 'system' };
const user: Actor = { kind: 'user', userId: ME, login: 'me', isAdmin: false, via: 'session', scopes: 'all', sessionId: 'S1' };
const admin: Actor = { kind: 'user', userId: ME, login: 'me', isAdmin: true, via: 'session', scopes: 'all', sessionId: 'S2' };
const userToken: Actor = { kind: 'user', userId: ME, login: 'me', isAdmin: false, via: 'token', scopes: ['api'] };
const adminToken: Actor = { kind: 'user', userId: ME, login: 'me', isAdmin: true, via: 'token', scopes: ['api'] };
const userAppPw: Actor = { kind: 'user', userId: ME, login: 'me', isAdmin: false, via: 'app-password', scopes: ['dav', 'api'] };
const adminAppPw: Actor = { kind: 'user', userId: ME, login: 'me', isAdmin: true, via: 'app-password', scopes: ['dav', 'mail', 'api'] };

const actors = { anonymous, user, admin, userToken, adminToken, userAppPw, adminAppPw } as const;
type Who = keyof typeof actors;
const ORDER: Who[] = ['anonymous', 'user', 'admin', 'userToken', 'adminToken', 'userAppPw', 'adminAppPw'];

function policy(): Policy {
  const p = new Policy();
  p.register('user', userRule);
  p.register('group', groupRule);
  p.register('audit', auditRule);
  p.register('space', spaceRule);
  return p;
}

/** One row: the action on the resource, and who is allowed (everyone else must be refused). */
interface Row {
  action: string;
  resource: Resource;
  allowed: Who[];
  label?: string;
}

const selfUser: Resource = { type: 'user', id: ME };
const otherUser: Resource = { type: 'user', id: OTHER };
const space = (visibility: string, role: string | null, archived = false): Resource => ({ type: 'space', id: 'SP', visibility, role, archived });

const ALL_USERS: Who[] = ['user', 'admin', 'userToken', 'adminToken', 'userAppPw', 'adminAppPw'];
const INTERACTIVE: Who[] = ['user', 'admin', 'userToken', 'adminToken'];
const ADMINS: Who[] = ['admin', 'adminToken'];

const matrix: Row[] = [
  // users
  { action: 'read-directory', resource: selfUser, allowed: ALL_USERS },
  { action: 'read-directory', resource: otherUser, allowed: ALL_USERS },
  { action: 'update-profile', resource: selfUser, allowed: INTERACTIVE },
  { action: 'update-profile', resource: otherUser, allowed: [] },
  { action: 'manage-credentials', resource: selfUser, allowed: INTERACTIVE },
  { action: 'manage-credentials', resource: otherUser, allowed: [] },
  { action: 'create', resource: { type: 'user' }, allowed: ADMINS },
  { action: 'list', resource: { type: 'user' }, allowed: ADMINS },
  { action: 'administer', resource: otherUser, allowed: ADMINS },
  { action: 'administer', resource: selfUser, allowed: ADMINS },
  { action: 'delete', resource: otherUser, allowed: ADMINS },
  { action: 'delete', resource: selfUser, allowed: [], label: 'nobody deletes themselves' },
  { action: 'fly', resource: selfUser, allowed: [], label: 'unknown action' },
  // groups
  ...['list', 'read', 'create', 'update', 'delete', 'manage-members'].map((action) => ({ action, resource: { type: 'group', id: 'G' }, allowed: ADMINS })),
  { action: 'launch', resource: { type: 'group', id: 'G' }, allowed: [] },
  // audit
  { action: 'read', resource: { type: 'audit' }, allowed: ADMINS },
  { action: 'verify', resource: { type: 'audit' }, allowed: ADMINS },
  { action: 'write', resource: { type: 'audit' }, allowed: [], label: 'nobody writes the audit log through the policy' },
  // unknown resource types are refused to everybody
  { action: 'read', resource: { type: 'nuclear-codes' }, allowed: [] },
  // spaces (the role is the acting user's role in that space)
  { action: 'create', resource: { type: 'space' }, allowed: INTERACTIVE },
  { action: 'see', resource: space('secret', null), allowed: ADMINS },
  { action: 'see', resource: space('secret', 'guest'), allowed: INTERACTIVE },
  { action: 'see', resource: space('request', null), allowed: INTERACTIVE },
  { action: 'see', resource: space('open', null), allowed: INTERACTIVE },
  { action: 'read-members', resource: space('open', null), allowed: INTERACTIVE },
  { action: 'read-members', resource: space('request', null), allowed: ADMINS },
  { action: 'read-members', resource: space('secret', 'member'), allowed: INTERACTIVE },
  { action: 'join', resource: space('open', null), allowed: INTERACTIVE },
  { action: 'join', resource: space('open', null, true), allowed: [], label: 'archived spaces cannot be joined' },
  { action: 'join', resource: space('request', null), allowed: [] },
  { action: 'join', resource: space('secret', null), allowed: [] },
  { action: 'join', resource: space('open', 'member'), allowed: [], label: 'already in' },
  { action: 'update', resource: space('open', 'member'), allowed: ADMINS },
  { action: 'update', resource: space('open', 'manager'), allowed: INTERACTIVE },
  { action: 'update', resource: space('open', 'owner'), allowed: INTERACTIVE },
  { action: 'update', resource: space('open', null), allowed: ADMINS },
  { action: 'manage-members', resource: space('open', 'guest'), allowed: ADMINS },
  { action: 'manage-members', resource: space('open', 'member'), allowed: ADMINS },
  { action: 'manage-members', resource: space('secret', 'manager'), allowed: INTERACTIVE },
  { action: 'grant-owner', resource: space('open', 'manager'), allowed: ADMINS },
  { action: 'grant-owner', resource: space('open', 'owner'), allowed: INTERACTIVE },
  { action: 'delete', resource: space('open', 'manager'), allowed: ADMINS },
  { action: 'delete', resource: space('open', 'owner'), allowed: INTERACTIVE },
  { action: 'delete', resource: space('secret', null), allowed: ADMINS },
  { action: 'leave', resource: space('open', 'guest'), allowed: INTERACTIVE },
  { action: 'leave', resource: space('open', null), allowed: [] },
  { action: 'archive-everything', resource: space('open', 'owner'), allowed: [] },
];

describe('policy matrix', () => {
  const p = policy();
  for (const row of matrix) {
    const name = `${row.resource.type}${row.resource.visibility ? `(${String(row.resource.visibility)}, role ${String(row.resource.role)}${row.resource.archived ? ', archived' : ''})` : row.resource.id === ME ? '(self)' : row.resource.id === OTHER ? '(other)' : ''} ${row.action}${row.label ? ` — ${row.label}` : ''}`;
    test(name, async () => {
      const got: Record<string, boolean> = {};
      const want: Record<string, boolean> = {};
      for (const who of ORDER) {
        got[who] = await p.can(actors[who], row.action, row.resource);
        want[who] = row.allowed.includes(who);
      }
      assert.deepEqual(got, want);
    });
  }

  test('the system actor (CLI, setup) may do anything, even on unknown types', async () => {
    for (const row of matrix) assert.equal(await p.can(system, row.action, row.resource), true, `${row.resource.type} ${row.action}`);
  });

  test('authorize throws unauthenticated for anonymous, forbidden for a signed-in actor', async () => {
    await assert.rejects(p.authorize(anonymous, 'list', { type: 'user' }), (e: unknown) => e instanceof AppError && e.code === 'unauthenticated' && e.status === 401);
    await assert.rejects(p.authorize(user, 'list', { type: 'user' }), (e: unknown) => e instanceof AppError && e.code === 'forbidden' && e.status === 403);
    await assert.rejects(p.authorize(adminAppPw, 'list', { type: 'user' }), (e: unknown) => e instanceof AppError && e.code === 'forbidden');
    await p.authorize(admin, 'list', { type: 'user' });
  });

  test('a rule is registered once per type', () => {
    assert.throws(() => p.register('user', userRule), /registered twice/);
  });

  test('requireUser and hasScope', () => {
    assert.throws(() => requireUser(anonymous), (e: unknown) => e instanceof AppError && e.code === 'unauthenticated');
    assert.throws(() => requireUser(system), (e: unknown) => e instanceof AppError && e.code === 'unauthenticated');
    assert.equal(requireUser(user), user);
    assert.equal(hasScope(user, 'dav'), true);
    assert.equal(hasScope(userToken, 'api'), true);
    assert.equal(hasScope(userToken, 'dav'), false);
    assert.equal(hasScope(userAppPw, 'mail'), false);
    assert.equal(hasScope(anonymous, 'api'), false);
  });
});
