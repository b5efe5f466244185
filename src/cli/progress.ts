// A progress line for long jobs (check, render of a large root): count, rate and time left,
// redrawn in place on stderr. Only on a terminal: on a pipe or a file, or with --quiet, it
// draws nothing at all, so logs and `2> file` stay clean.

export interface Progress {
  /** `done` of `total` are finished. Cheap: redraws at most every REDRAW_MS. */
  update(done: number, total: number): void;
  /** A phase without a count yet (`loading ROOT…`), shown until the next update. */
  say(text: string): void;
  /** Erase the line, so what follows starts on a clean one. */
  end(): void;
}

const REDRAW_MS = 100;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.ceil(seconds - m * 60)} s`;
}

/** `checking: 1,234/10,000 files, 2,468/s, 4 s left`: pure, for the tests. No rate yet: count only. */
export function progressLine(label: string, done: number, total: number, perSecond?: number): string {
  if (!perSecond) return `${label}: ${fmt(done)}/${fmt(total)} files`;
  return `${label}: ${fmt(done)}/${fmt(total)} files, ${fmt(perSecond)}/s, ${duration((total - done) / perSecond)} left`;
}

const SILENT: Progress = { update: () => {}, say: () => {}, end: () => {} };
/** The rate is measured over about the last WINDOW_MS: the first files (shared ones, schema
 * compilation) are slow, and a rate since the start would promise an hour for a ten-second job. */
const WINDOW_MS = 2000;

export function startProgress(label: string, opts: { quiet?: boolean; stream?: NodeJS.WriteStream; now?: () => number } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet || !stream.isTTY) return SILENT;
  const now = opts.now ?? Date.now;
  const start = now();
  const samples: Array<{ t: number; done: number }> = [];
  let drawn = -Infinity;
  // \r and erase-to-end redraw in place; never wider than the terminal, or it would wrap.
  const draw = (line: string) => stream.write(`\r${line.slice(0, Math.max(10, (stream.columns || 80) - 1))}\x1b[K`);
  return {
    say: draw,
    update(done, total) {
      const t = now();
      if (t - drawn < REDRAW_MS && done < total) return;
      drawn = t;
      samples.push({ t, done });
      while (samples.length > 2 && t - samples[1]!.t >= WINDOW_MS) samples.shift();
      const first = samples[0]!;
      const rate = t - start >= 1000 && t > first.t ? ((done - first.done) * 1000) / (t - first.t) : undefined;
      draw(progressLine(label, done, total, rate));
    },
    end() {
      stream.write('\r\x1b[K');
    },
  };
}
