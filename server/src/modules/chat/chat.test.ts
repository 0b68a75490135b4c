import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../errors.js';
import type { Actor } from '../../platform/policy.js';
import { cleanText, MAX_MESSAGE_CHARS, parseMentions, validEmoji } from './commands.js';
import { cleanAttachments, slackToMarkdown } from './hooks.js';
import { chatChannelRule, type ChannelResource } from './policy.js';

/** Unit tests of the chat module's pure parts: mentions, text and emoji rules, Slack payloads, the policy rule. */

describe('chat mentions', () => {
  test('@logins, @channel/@all/@here; not inside code, e-mail addresses or paths', () => {
    assert.deepEqual(parseMentions('hi @Ana and @ben.dupont, see @cid.'), { logins: ['ana', 'ben.dupont', 'cid'], all: false, here: false });
    assert.deepEqual(parseMentions('@channel now'), { logins: [], all: true, here: false });
    assert.deepEqual(parseMentions('ping @here'), { logins: [], all: false, here: true });
    assert.deepEqual(parseMentions('mail me at ana@example.org, path a/@b'), { logins: [], all: false, here: false });
    assert.deepEqual(parseMentions('`@channel` and\n```\n@all @ben\n```\n'), { logins: [], all: false, here: false });
    assert.equal(parseMentions(Array.from({ length: 300 }, (_, i) => `@u${i}`).join(' ')).logins.length, 100);
  });
});

describe('chat text and emoji', () => {
  test('text: newlines kept, control characters removed, empty and oversized refused', () => {
    assert.equal(cleanText('a\r\nb\u0007\tc'), 'a\nb\tc');
    assert.throws(() => cleanText(' \n\u0000 '), (e: unknown) => e instanceof AppError && e.code === 'validation_failed');
    assert.equal(cleanText('é'.repeat(MAX_MESSAGE_CHARS)).length, MAX_MESSAGE_CHARS);
    assert.throws(() => cleanText('x'.repeat(MAX_MESSAGE_CHARS + 1)), (e: unknown) => e instanceof AppError && e.code === 'payload_too_large');
  });
  test('emoji: Unicode emoji (with modifiers, ZWJ sequences, flags) or :shortcode:', () => {
    for (const ok of ['👍', '👍🏽', '👩‍💻', '🇫🇷', '❤️', ':tada:', ':+1:']) assert.ok(validEmoji(ok), ok);
    for (const bad of ['', 'a', '1', '#', ':Bad:', ':a b:', '<b>', '👍x', '👍'.repeat(20)]) assert.ok(!validEmoji(bad), bad);
  });
});

describe('Slack payloads', () => {
  test('links and special mentions become Markdown; @channel neutralised when not allowed', () => {
    assert.equal(slackToMarkdown('see <https://x.org/a?b=1|the page> and <https://y.org>', true), 'see [the page](https://x.org/a?b=1) and https://y.org');
    assert.equal(slackToMarkdown('<!channel> <!here|here> &lt;b&gt;', true), '@channel @here <b>');
    assert.equal(slackToMarkdown('<!channel> alert', false), '`@channel` alert');
    assert.equal(slackToMarkdown('<javascript:alert(1)|x>', true), '<javascript:alert(1)|x>');
  });
  test('attachments: known fields kept and bounded, unsafe links dropped, bad shapes refused', () => {
    assert.deepEqual(
      cleanAttachments([{ color: 'red', title: 't', title_link: 'javascript:alert(1)', text: 'x'.repeat(5000), fields: [{ title: 'a', value: 'b' }], extra: 1 }]),
      [{ title: 't', text: 'x'.repeat(4000), fields: [{ title: 'a', value: 'b', short: false }] }],
    );
    assert.equal(cleanAttachments([{ nothing: true }]), null);
    assert.equal(cleanAttachments(undefined), null);
    assert.throws(() => cleanAttachments('x'), AppError);
    assert.throws(() => cleanAttachments([1]), AppError);
    assert.throws(() => cleanAttachments(Array.from({ length: 21 }, () => ({ text: 'x' }))), AppError);
  });
});

describe('chat policy rule', () => {
  const user = (over: Partial<Extract<Actor, { kind: 'user' }>> = {}): Actor => ({ kind: 'user', userId: 'u', login: 'u', isAdmin: false, via: 'session', scopes: 'all', ...over });
  const ch = (over: Partial<ChannelResource> = {}): ChannelResource => ({
    type: 'chat-channel',
    id: 'c',
    kind: 'org',
    visibility: 'public',
    spaceId: null,
    archived: false,
    mentionAll: 'all',
    member: false,
    role: null,
    spaceRole: null,
    ...over,
  });
  const can = (a: Actor, action: string, r: ChannelResource) => chatChannelRule(a, action, r) as boolean;

  test('members read and post; outsiders only see public channels and join public org channels', () => {
    assert.ok(can(user(), 'see', ch()));
    assert.ok(can(user(), 'join', ch()));
    assert.ok(!can(user(), 'read', ch()));
    assert.ok(!can(user(), 'post', ch()));
    assert.ok(!can(user(), 'see', ch({ visibility: 'private' })));
    assert.ok(!can(user(), 'join', ch({ visibility: 'private' })));
    const m = ch({ member: true, role: 'member' });
    assert.ok(can(user(), 'read', m) && can(user(), 'post', m) && can(user(), 'leave', m));
    assert.ok(!can(user(), 'manage', m) && !can(user(), 'moderate', m));
    assert.ok(!can(user(), 'post', { ...m, archived: true }));
    assert.ok(can(user(), 'read', { ...m, archived: true }));
  });
  test('space channels: space managers manage; guests do not create; outsiders of the space see nothing', () => {
    assert.ok(can(user(), 'create', ch({ kind: 'space', spaceRole: 'member' })));
    assert.ok(!can(user(), 'create', ch({ kind: 'space', spaceRole: 'guest' })));
    assert.ok(!can(user(), 'create', ch({ kind: 'space', spaceRole: null })));
    assert.ok(!can(user(), 'see', ch({ kind: 'space' })));
    assert.ok(can(user(), 'manage', ch({ kind: 'space', spaceRole: 'manager', member: true })));
    assert.ok(!can(user(), 'leave', ch({ kind: 'space', spaceRole: 'member', member: true })), 'public space channels follow the space');
  });
  test('administrators moderate but do not read; DMs are nobody else’s business', () => {
    const admin = user({ isAdmin: true });
    assert.ok(can(admin, 'moderate', ch({ visibility: 'private' })));
    assert.ok(!can(admin, 'read', ch({ visibility: 'private' })));
    assert.ok(!can(admin, 'see', ch({ kind: 'dm', visibility: 'private' })));
    assert.ok(!can(admin, 'moderate', ch({ kind: 'dm', visibility: 'private' })));
  });
  test('@channel follows the setting; tokens need the api scope; anonymous nothing', () => {
    const m = ch({ member: true, role: 'member' });
    assert.ok(can(user(), 'mention-all', m));
    assert.ok(!can(user(), 'mention-all', { ...m, mentionAll: 'managers' }));
    assert.ok(can(user(), 'mention-all', { ...m, mentionAll: 'managers', role: 'manager' }));
    assert.ok(!can(user(), 'mention-all', { ...m, mentionAll: 'none', role: 'manager' }));
    assert.ok(can(user({ via: 'token', scopes: ['api'] }), 'read', m));
    assert.ok(!can(user({ via: 'app-password', scopes: ['dav'] }), 'read', m));
    assert.ok(!can({ kind: 'anonymous' }, 'see', ch()));
  });
});
