import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestStorage, postgresAvailable, type TestStorage } from './helpers/db.js';
import { makeUser, startTestServer, type TestServer } from './helpers/server.js';
import { appPassword, IMAP_CONFIG, imapPorts, RawImap } from './helpers/imap.js';

/**
 * Two nodes on one PostgreSQL database: a session IDLE on node B hears about a message appended and
 * flagged through node A (store → outbox → LISTEN/NOTIFY → IMAP session). PostgreSQL only: skipped
 * with a notice when unreachable, unless BASTIDE_TEST_PG=required.
 */
const available = await postgresAvailable();
if (!available && process.env.BASTIDE_TEST_PG === 'required') throw new Error('PostgreSQL unavailable and BASTIDE_TEST_PG=required');

describe('imap: two nodes, one mailbox', { skip: available ? false : 'PostgreSQL unavailable' }, () => {
  let storage: TestStorage;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    storage = await createTestStorage('postgres');
    a = await startTestServer({ engine: 'postgres', storage, config: { ...IMAP_CONFIG } });
    b = await startTestServer({ engine: 'postgres', storage, config: { ...IMAP_CONFIG } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await storage?.cleanup();
  });

  test('IDLE on node B sees EXISTS and FETCH FLAGS for changes made on node A', async () => {
    const u = await makeUser(a, 'nodeuser');
    const pw = await appPassword(a, u.id);
    const onA = await RawImap.open(imapPorts(a).imap);
    const onB = await RawImap.open(imapPorts(b).imap);
    await onA.cmd('1', `LOGIN nodeuser "${pw}"`);
    await onB.cmd('1', `LOGIN nodeuser "${pw}"`);
    await onA.cmd('2', 'SELECT INBOX');
    await onB.cmd('2', 'SELECT INBOX');
    onB.write('3 IDLE\r\n');
    assert.match(await onB.readLine(), /^\+ idling/);
    const m = 'Subject: across nodes\r\n\r\nhello\r\n';
    await onA.cmd('3', `APPEND INBOX {${m.length}+}\r\n${m}`);
    assert.match(await onB.waitFor((t) => t.includes('EXISTS'), 10000), /\* 1 EXISTS/);
    await onB.drain(0);
    await onA.cmd('4', 'STORE 1 +FLAGS (\\Flagged)');
    assert.match(await onB.waitFor((t) => t.includes('FETCH'), 10000), /\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\)\)/);
    onB.write('DONE\r\n');
    assert.match(await onB.until('3'), /3 OK/);
    onA.close();
    onB.close();
  });
});
