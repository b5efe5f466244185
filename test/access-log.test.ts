// The default access-log destination, pino's asynchronous stdout (http/access-log.ts): lines
// keep their order, and none is lost when the process exits, however it exits.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/cli.js';

/** Run a child that logs `n` records through createLogger() and exits as told; its stdout. */
function child(n: number, exit: string): string[] {
  const mod = pathToFileURL(path.join(REPO, 'dist', 'http', 'access-log.js')).href;
  const code = `import { createLogger } from ${JSON.stringify(mod)};
const log = createLogger();
for (let i = 0; i < ${n}; i++) {
  log.info({ i });
  if (i % 100 === 99) await new Promise((r) => setImmediate(r));
}
${exit}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('createLogger() on stdout', () => {
  it.each([
    ['ending by itself', ''],
    ['calling process.exit() right after logging', 'process.exit(0);'],
  ])('loses no line and keeps their order, %s', (_, exit) => {
    const lines = child(1050, exit);
    expect(lines).toHaveLength(1050);
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 1050 }, (_, i) => i));
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', i: 0 });
  });
});
