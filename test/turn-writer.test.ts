// TurnWriter (http/turn-writer.ts): replies queued during one event-loop turn are written
// together at its end, in the order they were queued, and one failing write stops no other.

import { describe, expect, it } from 'vitest';
import { TurnWriter } from '../src/http/turn-writer.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnWriter', () => {
  it('writes nothing synchronously, then everything queued in the turn, in order', async () => {
    const done: number[] = [];
    const w = new TurnWriter(() => undefined);
    for (let i = 0; i < 5; i++) w.defer(() => done.push(i));
    expect(done).toEqual([]);
    expect(w.pending).toBe(5);
    await nextTurn();
    expect(done).toEqual([0, 1, 2, 3, 4]);
    expect(w.pending).toBe(0);
  });

  it('writes what promise callbacks of the same turn queued in the same flush', async () => {
    const done: string[] = [];
    const w = new TurnWriter(() => undefined);
    // As in the listener: replies come out of promise continuations (microtasks).
    void Promise.resolve().then(() => w.defer(() => done.push('a')));
    void Promise.resolve().then(() => w.defer(() => done.push('b')));
    await Promise.resolve();
    expect(done).toEqual([]);
    await nextTurn();
    expect(done).toEqual(['a', 'b']);
  });

  it('reports a write that throws and still runs the ones after it', async () => {
    const errors: unknown[] = [];
    const done: string[] = [];
    const w = new TurnWriter((e) => errors.push(e));
    w.defer(() => done.push('first'));
    w.defer(() => {
      throw new Error('boom');
    });
    w.defer(() => done.push('third'));
    await nextTurn();
    expect(done).toEqual(['first', 'third']);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('boom');
  });

  it('a write queued while flushing goes out in a later turn, not lost', async () => {
    const done: string[] = [];
    const w = new TurnWriter(() => undefined);
    w.defer(() => {
      done.push('outer');
      w.defer(() => done.push('inner'));
    });
    await nextTurn();
    expect(done).toEqual(['outer']);
    await nextTurn();
    expect(done).toEqual(['outer', 'inner']);
  });
});
