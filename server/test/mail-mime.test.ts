import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeWords, decodedParam, findSection, parseMessage, parseParams, toCrlf, type MimePart } from '../src/modules/mail/mime.js';

/**
 * The MIME parser (modules/mail/mime.ts) on hostile input: a seeded fuzzer mutates real-looking messages
 * (byte flips, truncation, duplicated and dropped boundaries, deep nesting, huge headers, NUL and 8-bit
 * bytes); every parse terminates quickly, never throws, and every part's offsets stay inside the message.
 */

const SAMPLES = [
  'From: a@example.org\r\nTo: b@example.org\r\nSubject: plain\r\n\r\nHello\r\n',
  [
    'From: =?iso-8859-1?q?Andr=E9?= <andre@example.org>',
    'To: "Doe, Jane" <jane@example.org>, undisclosed-recipients:;',
    'Subject: =?utf-8?B?w6l0w6k=?= =?utf-8?Q?_et_hiver?=',
    'Content-Type: multipart/mixed; boundary="==A=="',
    '',
    '--==A==',
    'Content-Type: multipart/alternative; boundary=B',
    '',
    '--B',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    'caf=E9',
    '--B',
    'Content-Type: text/html',
    '',
    '<b>café</b>',
    '--B--',
    '--==A==',
    'Content-Type: message/rfc822',
    '',
    'Subject: inner',
    'Content-Type: multipart/mixed; boundary=C',
    '',
    '--C',
    '',
    'inner text',
    '--C--',
    '--==A==',
    'Content-Type: image/png; name*0*=utf-8\'\'%C3%A9t; name*1=".png"',
    'Content-Disposition: attachment',
    'Content-Transfer-Encoding: base64',
    '',
    'iVBORw0KGgo=',
    '--==A==--',
    '',
  ].join('\r\n'),
];

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(input: Buffer, r: () => number): Buffer {
  let b = Buffer.from(input);
  const ops = 1 + Math.floor(r() * 6);
  for (let i = 0; i < ops; i++) {
    const pos = Math.floor(r() * Math.max(1, b.length));
    switch (Math.floor(r() * 8)) {
      case 0:
        b[pos] = Math.floor(r() * 256);
        break;
      case 1:
        b = b.subarray(0, pos);
        break;
      case 2:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos, pos + Math.floor(r() * 200)), b.subarray(pos)]);
        break;
      case 3:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from(['\r\n--B\r\n', '\r\n--==A==--\r\n', '\r\n\r\n', '\0', '\r\n--C\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n'][Math.floor(r() * 5)]!), b.subarray(pos)]);
        break;
      case 4:
        b = Buffer.concat([b.subarray(0, pos), b.subarray(pos + Math.floor(r() * 50))]);
        break;
      case 5:
        b = Buffer.concat([Buffer.from(`X-Long: ${'a'.repeat(Math.floor(r() * 5000))}\r\n`), b]);
        break;
      case 6:
        b = Buffer.concat([b.subarray(0, pos), Buffer.from('=?utf-8?b?////?= =?x-unknown?q?=ZZ?='), b.subarray(pos)]);
        break;
      default:
        b = Buffer.from(b.toString('latin1').replace(/\r\n/g, r() < 0.5 ? '\n' : '\r'), 'latin1');
    }
  }
  return b;
}

function checkPart(p: MimePart, len: number, depth = 0): number {
  assert.ok(depth < 100);
  assert.ok(p.headerStart >= 0 && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= len, JSON.stringify([p.headerStart, p.bodyStart, p.bodyEnd, len]));
  assert.equal(p.size, p.bodyEnd - p.bodyStart);
  assert.match(p.type, /^[a-z0-9!#$&^_.+-]+$/);
  let n = 1;
  for (const c of p.children ?? []) n += checkPart(c, len, depth + 1);
  if (p.message) n += checkPart(p.message.body, len, depth + 1);
  return n;
}

test('fuzzed messages: never throws, bounded, offsets inside the message', () => {
  const r = rng(20261125);
  const started = Date.now();
  for (let i = 0; i < 3000; i++) {
    const raw = toCrlf(mutate(Buffer.from(SAMPLES[i % SAMPLES.length]!), r));
    const t0 = performance.now();
    const p = parseMessage(raw);
    assert.ok(performance.now() - t0 < 500, 'each parse is fast');
    const parts = checkPart(p.body, raw.length);
    assert.ok(parts <= 1100, `${parts} parts`);
    assert.ok(p.text.length <= 64 * 1024);
    findSection(p.body, [1, 1, 1]);
    findSection(p.body, [9, 9]);
    JSON.stringify(p.envelope);
  }
  assert.ok(Date.now() - started < 60_000);
});

test('pathological inputs: many parts, deep nesting, giant headers', () => {
  const many = `Content-Type: multipart/mixed; boundary=x\r\n\r\n${'--x\r\n\r\npart\r\n'.repeat(5000)}--x--\r\n`;
  const p = parseMessage(Buffer.from(many));
  assert.ok(p.body.children!.length <= 1001);
  let deep = 'leaf';
  for (let i = 0; i < 1000; i++) deep = `Content-Type: message/rfc822\r\n\r\n${deep}`;
  assert.ok(parseMessage(Buffer.from(deep)).body);
  const header = Buffer.from(`Subject: ${'x'.repeat(2_000_000)}\r\n\r\nbody`);
  assert.ok(parseMessage(header).body.bodyStart > 0);
  const noBlank = Buffer.from('From: a@b\r\nSubject: no body separator');
  assert.equal(parseMessage(noBlank).body.size, 0);
});

test('header helpers: encoded words, RFC 2231 parameters, quoted parameters', () => {
  assert.equal(decodeWords('=?utf-8?q?caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?= and more'), 'café crème and more');
  assert.equal(decodeWords('=?iso-8859-1?b?6XTp?='), 'été');
  assert.equal(decodeWords('=?bogus-charset?q?ab?='), 'ab');
  const p = parseParams('attachment; filename*0*=utf-8\'\'%C3%A9t%C3%A9; filename*1=".pdf"; x="a;b\\"c"');
  assert.equal(p.value, 'attachment');
  assert.equal(decodedParam(p.params, 'filename'), 'été.pdf');
  assert.equal(p.params.find(([k]) => k === 'x')?.[1], 'a;b"c');
});
