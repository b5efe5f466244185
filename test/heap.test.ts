// After validating a whole root the server asks V8 for a collection (Node gives V8 no idle
// time to do it), and between validation slices it collects when the heap has bloated.

import v8 from 'node:v8';
import { expect, it } from 'vitest';
import { collectGarbage, collectIfBloated, watchHeap } from '../src/service/heap.js';

const used = () => v8.getHeapStatistics().used_heap_size;
const MB = 1024 * 1024;

/** Allocate about `mb` MB of objects and drop them. */
function litter(mb: number): void {
  let keep: unknown[] = [];
  for (let i = 0; i < mb * 8_000; i++) keep.push({ i, s: `x${i}` });
  keep = [];
  void keep;
}

it('collectGarbage frees garbage now', () => {
  collectGarbage();
  const base = used();
  litter(80);
  expect(used()).toBeGreaterThan(base + 20 * MB);
  collectGarbage();
  expect(used()).toBeLessThan(base + 10 * MB);
});

it('collectIfBloated collects past 1.5 × live + 48 MB, and not below it', () => {
  collectGarbage();
  const base = used();
  // Garbage is held until the instant before the call, so V8 cannot have collected it first.
  let held: unknown[] = [];
  for (let i = 0; i < 8_000; i++) held.push({ i, s: `x${i}` });
  expect(used()).toBeGreaterThan(base + 256 * 1024);
  held = [];
  const before = used();
  collectIfBloated();
  expect(used()).toBeGreaterThan(before - 64 * 1024); // under the threshold: left alone

  for (let i = 0; i < 160 * 8_000; i++) held.push({ i, s: `x${i}` });
  expect(used()).toBeGreaterThan(1.5 * base + 48 * MB);
  held = [];
  collectIfBloated();
  expect(used()).toBeLessThan(base + 10 * MB);
});

it('watchHeap collects a bloated heap on its own while serving', async () => {
  collectGarbage();
  const base = used();
  let held: unknown[] = [];
  for (let i = 0; i < 160 * 8_000; i++) held.push({ i, s: `x${i}` });
  expect(used()).toBeGreaterThan(1.5 * base + 48 * MB);
  held = [];
  void held;
  // Nothing allocates from here on, so V8 has no reason to collect: only the watch can.
  const timer = watchHeap(20);
  try {
    const deadline = Date.now() + 5_000;
    while (used() > base + 10 * MB && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(used()).toBeLessThan(base + 10 * MB);
  } finally {
    clearInterval(timer);
  }
});

