import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryBus, type BusLogger } from './memory.js';
import type { BusEvent } from './types.js';

function recordingLogger(): BusLogger & { errors: Array<{ obj: object; msg?: string }> } {
  const errors: Array<{ obj: object; msg?: string }> = [];
  return { errors, warn: () => undefined, error: (obj, msg) => errors.push({ obj, ...(msg ? { msg } : {}) }) };
}

const ev = (seq: number): BusEvent => ({ seq, topic: 'test.thing.changed', data: { id: `t${seq}` }, audience: ['u1'], at: 1000 + seq });

describe('MemoryBus', () => {
  test('delivers each event to every subscriber once, in publish order', async () => {
    const bus = new MemoryBus(recordingLogger());
    const a: number[] = [];
    const b: number[] = [];
    bus.subscribe((e) => a.push(e.seq));
    bus.subscribe((e) => b.push(e.seq));
    await bus.publish(ev(1));
    await bus.publish(ev(2));
    assert.deepEqual(a, [1, 2]);
    assert.deepEqual(b, [1, 2]);
    await bus.close();
  });

  test('the event reaches handlers unchanged', async () => {
    const bus = new MemoryBus(recordingLogger());
    let got: BusEvent | undefined;
    bus.subscribe((e) => (got = e));
    await bus.publish(ev(7));
    assert.deepEqual(got, ev(7));
    await bus.close();
  });

  test('unsubscribe stops delivery; the same function subscribed twice is independent', async () => {
    const bus = new MemoryBus(recordingLogger());
    const seen: number[] = [];
    const handler = (e: BusEvent): void => void seen.push(e.seq);
    const off1 = bus.subscribe(handler);
    const off2 = bus.subscribe(handler);
    await bus.publish(ev(1));
    off1();
    await bus.publish(ev(2));
    off2();
    off2();
    await bus.publish(ev(3));
    assert.deepEqual(seen, [1, 1, 2]);
    assert.equal(bus.size, 0);
    await bus.close();
  });

  test('a throwing or rejecting handler is logged and never breaks publish or other handlers', async () => {
    const log = recordingLogger();
    const bus = new MemoryBus(log);
    const seen: number[] = [];
    bus.subscribe(() => {
      throw new Error('sync boom');
    });
    bus.subscribe((async () => {
      throw new Error('async boom');
    }) as unknown as (e: BusEvent) => void);
    bus.subscribe((e) => seen.push(e.seq));
    await bus.publish(ev(1));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [1]);
    assert.equal(log.errors.length, 2);
    assert.deepEqual(log.errors.map((e) => (e.obj as { err: Error }).err.message).sort(), ['async boom', 'sync boom']);
    await bus.close();
  });

  test('a handler unsubscribing during delivery does not skip others', async () => {
    const bus = new MemoryBus(recordingLogger());
    const seen: string[] = [];
    const off = bus.subscribe(() => {
      seen.push('a');
      off();
    });
    bus.subscribe(() => seen.push('b'));
    await bus.publish(ev(1));
    await bus.publish(ev(2));
    assert.deepEqual(seen, ['a', 'b', 'b']);
    await bus.close();
  });

  test('publish after close throws', async () => {
    const bus = new MemoryBus(recordingLogger());
    await bus.close();
    await assert.rejects(bus.publish(ev(1)), /closed/);
  });
});
