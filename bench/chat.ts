import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createBastide } from '../server/src/app.js';
import { loadConfig } from '../server/src/config.js';
import { createSession } from '../server/src/modules/identity/commands/sessions.js';
import { createUser } from '../server/src/modules/identity/commands/users.js';
import { createChannel, setMember } from '../server/src/modules/chat/commands.js';
import type { UserActor } from '../server/src/platform/policy.js';
import { summariseProfile } from './lib/cpuprofile.js';
import { BIN, freePort, pollUntilOk, removeDir, rssBytes, sleep, spawnNode, tempDataDir, type Child } from './lib/proc.js';
import { context, mb, ms, underLimit, type Figure } from './lib/report.js';

/**
 * The chat figures (issue 7), server and load generator on the same 2-core machine:
 *   - a channel of `members` people (1,000), each with a socket open, receiving `rate` messages/s (100)
 *     posted through the API by 20 of them: for each message, the time from the POST to its arrival at
 *     the LAST member; p99 over the messages ≤ 50 ms;
 *   - a burst: `burst` messages posted at once; deliveries (messages × members) per second until the last
 *     member has the last message ≥ 100,000/s (each frame is encoded once per broadcast);
 *   - `idle` (10,000) idle sockets: the server's RSS growth ≤ 300 MB.
 * Users, sessions and the channel are created through the server's own commands in this process before
 * the built server starts on the same data folder.
 */
export interface ChatOptions {
  members: number;
  rate: number;
  seconds: number;
  burst: number;
  idle: number;
  logLevel: string;
  /** Write a V8 CPU profile of the server into this folder and summarise it. */
  profileDir?: string;
  log: (s: string) => void;
}

const POSTERS = 20;
const P99_LIMIT_MS = 50;
const FANOUT_TARGET = 100_000;
const IDLE_RSS_LIMIT = 300 * 1024 * 1024;

interface Member {
  id: string;
  login: string;
  cookie: string;
  csrf: string;
}

async function seed(dataDir: string, n: number, log: (s: string) => void): Promise<{ members: Member[]; channelId: string }> {
  const config = loadConfig({ BASTIDE_DATA: dataDir, BASTIDE_LOG_LEVEL: 'warn' }, { port: 0, roles: ['api'] });
  const bastide = await createBastide(config);
  const platform = bastide.platform;
  const system = { platform, actor: { kind: 'system' as const } };
  const members: Member[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i += 16) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(16, n - i) }, async (_, k) => {
        const login = `m${String(i + k).padStart(5, '0')}`;
        const { user } = await createUser(system, { login, displayName: `Member ${i + k}` });
        const s = await createSession(platform, user, { userAgent: 'bench' });
        return { id: user.id, login, cookie: `bastide_session=${s.token}`, csrf: s.csrfToken };
      }),
    );
    members.push(...batch);
  }
  log(`  seeded ${n} users and sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const owner = members[0]!;
  const actorOf = (m: Member): UserActor => ({ kind: 'user', userId: m.id, login: m.login, isAdmin: false, via: 'session', scopes: 'all' });
  const ctx = { platform, actor: actorOf(owner) };
  const channelId = await createChannel(ctx, { kind: 'org', name: 'bench-all-hands', visibility: 'private' });
  for (const m of members.slice(1)) await setMember(ctx, channelId, m.id, 'member');
  await bastide.close();
  return { members, channelId };
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

export async function chat(o: ChatOptions): Promise<Figure[]> {
  const dataDir = tempDataDir('chat');
  let server: Child | undefined;
  const sockets: WebSocket[] = [];
  try {
    const { members, channelId } = await seed(dataDir, o.members, o.log);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = { ...process.env, BASTIDE_DATA: dataDir, BASTIDE_PORT: String(port), BASTIDE_BASE_URL: base, BASTIDE_LOG_LEVEL: o.logLevel, NODE_ENV: 'production' };
    if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
    server = spawnNode('bastide', [...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []), BIN, 'start'], env);
    await pollUntilOk(`${base}/readyz`, server);
    const wsUrl = `${base.replace(/^http/, 'ws')}/api/realtime`;

    // Arrival times per message id, for each member: only the latest per message is kept (the max).
    const lastArrival = new Map<string, { at: number; count: number }>();
    const open = (m: Member, onEvent?: (raw: string) => void): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(wsUrl, { headers: { cookie: m.cookie }, origin: base, perMessageDeflate: false });
        sockets.push(ws);
        let ready = false;
        ws.on('message', (data: Buffer) => {
          if (!ready) {
            ready = true;
            resolve(ws);
            return;
          }
          onEvent?.(data.toString());
        });
        ws.on('error', (e) => (ready ? undefined : reject(e)));
      });
    const MSG = /"messageId":"([^"]+)"/;
    const onEvent = (raw: string): void => {
      if (!raw.includes('chat.message.created')) return;
      const id = MSG.exec(raw)?.[1];
      if (!id) return;
      const now = performance.now();
      const e = lastArrival.get(id);
      if (e) {
        e.at = now;
        e.count++;
      } else lastArrival.set(id, { at: now, count: 1 });
    };
    const t0 = performance.now();
    for (let i = 0; i < members.length; i += 100) await Promise.all(members.slice(i, i + 100).map((m) => open(m, onEvent)));
    o.log(`  ${members.length} sockets open in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const post = async (m: Member, text: string): Promise<{ id: string; sentAt: number }> => {
      const sentAt = performance.now();
      const r = await fetch(`${base}/api/chat/channels/${channelId}/messages`, {
        method: 'POST',
        headers: { cookie: m.cookie, 'x-csrf-token': m.csrf, 'content-type': 'application/json', origin: base },
        body: JSON.stringify({ text }),
      });
      const body = (await r.json()) as { message?: { id: string } };
      if (r.status !== 201 || !body.message) throw new Error(`post answered ${r.status}: ${JSON.stringify(body)}`);
      return { id: body.message.id, sentAt };
    };
    const posters = members.slice(1, 1 + POSTERS);
    const waitAll = async (ids: string[], timeoutMs: number): Promise<void> => {
      const deadline = performance.now() + timeoutMs;
      while (ids.some((id) => (lastArrival.get(id)?.count ?? 0) < members.length)) {
        if (performance.now() > deadline) {
          const missing = ids.filter((id) => (lastArrival.get(id)?.count ?? 0) < members.length).length;
          throw new Error(`${missing} of ${ids.length} messages had not reached every member after ${timeoutMs} ms`);
        }
        await sleep(5);
      }
    };

    // Steady load: `rate` messages/s for `seconds`, spread over the posters (5/s each at most: the
    // per-user limit), each latency = last member's arrival − the POST's start.
    const sent: Array<{ id: string; sentAt: number }> = [];
    const interval = 1000 / o.rate;
    const start = performance.now();
    const total = o.rate * o.seconds;
    const inflight: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inflight.push(post(posters[i % posters.length]!, `steady ${i}`).then((s) => void sent.push(s)));
    }
    await Promise.all(inflight);
    await waitAll(sent.map((s) => s.id), 30_000);
    const latencies = sent.map((s) => lastArrival.get(s.id)!.at - s.sentAt);
    const p99 = percentile(latencies, 99);
    const p50 = percentile(latencies, 50);
    o.log(`  steady: ${sent.length} messages to ${members.length} members, last-member latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);

    // Burst: every poster sends its share at once (within the per-user burst allowance).
    await sleep(7000); // let the posters' token buckets refill
    const perPoster = Math.ceil(o.burst / POSTERS);
    const b0 = performance.now();
    const burst = (await Promise.all(posters.map((m, k) => Promise.all(Array.from({ length: perPoster }, (_, j) => post(m, `burst ${k}.${j}`)))))).flat();
    await waitAll(burst.map((s) => s.id), 60_000);
    const bEnd = Math.max(...burst.map((s) => lastArrival.get(s.id)!.at));
    const deliveries = burst.length * members.length;
    const perSecond = deliveries / ((bEnd - b0) / 1000);
    o.log(`  burst: ${burst.length} messages × ${members.length} members in ${(bEnd - b0).toFixed(0)} ms = ${Math.round(perSecond).toLocaleString('en-US')} deliveries/s`);

    for (const s of sockets.splice(0)) s.terminate();
    await sleep(1500);

    // Idle sockets: `idle` connections spread over the members' sessions, then RSS growth.
    const before = rssBytes(server.pid) ?? 0;
    const i0 = performance.now();
    for (let i = 0; i < o.idle; i += 200) await Promise.all(Array.from({ length: Math.min(200, o.idle - i) }, (_, k) => open(members[(i + k) % members.length]!)));
    o.log(`  ${o.idle} idle sockets open in ${((performance.now() - i0) / 1000).toFixed(1)} s`);
    await sleep(3000);
    const after = rssBytes(server.pid) ?? 0;
    const growth = after - before;

    return [
      underLimit('chat_fanout_p99', `chat: last of ${members.length} members gets each message (p99), ${o.rate} msg/s`, p99, P99_LIMIT_MS, ms, {
        note: `${sent.length} messages posted by ${POSTERS} members over ${o.seconds} s; p50 ${p50.toFixed(1)} ms; POST start → arrival at the last socket`,
        values: { p50, p99, messages: sent.length },
      }),
      {
        id: 'chat_fanout_burst',
        name: `chat: burst fan-out (${burst.length} messages × ${members.length} members)`,
        measured: `${Math.round(perSecond).toLocaleString('en-US')} deliveries/s`,
        target: `≥ ${FANOUT_TARGET.toLocaleString('en-US')}/s`,
        ratio: perSecond / FANOUT_TARGET,
        pass: perSecond >= FANOUT_TARGET,
        values: { deliveries, ms: bEnd - b0 },
        note: 'from the first POST to the arrival of the last message at the last socket; the load generator parses every frame on the same CPUs',
      },
      underLimit('chat_idle_rss', `chat: RSS growth for ${o.idle.toLocaleString('en-US')} idle sockets`, growth, IDLE_RSS_LIMIT, mb, { values: { before, after } }),
      context('chat_rss_after', 'chat: server RSS with the idle sockets', mb(after)),
    ];
  } finally {
    for (const s of sockets) s.terminate();
    await server?.stop();
    removeDir(dataDir);
    const latest = o.profileDir ? readdirSync(o.profileDir).filter((f) => f.endsWith('.cpuprofile')).sort().at(-1) : undefined;
    if (o.profileDir && latest) o.log(`\nCPU profile of the server: ${join(o.profileDir, latest)}\n${summariseProfile(join(o.profileDir, latest))}\n`);
  }
}
