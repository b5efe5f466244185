// How a value is written into a Grandstream `<gs_provision>` file: one `<Pnnn>value</Pnnn>`
// element per P-value (config version 1), the value XML-escaped.

import { RenderValueError } from '../contract.js';
import { nameCheck, text, xmlCarries, xmlEscape } from '../values.js';

/** P-value names: `P` and a number (`P2`, `P47`, `P1362`). Anything else the phone ignores. */
export const isPValue = nameCheck(/^P\d{1,6}$/);

/** Element text carries anything XML can, escaped (newlines as `&#10;`). */
export const gsCarries = xmlCarries;

/** `    <P47>value</P47>`: the `{{#params "grandstream"}}` line writer. */
export function gsLine(key: unknown, value: unknown): string {
  const k = text(key);
  if (!isPValue(k)) throw new RenderValueError(`"${k}" is not a Grandstream P-value name (P followed by digits, e.g. P47)`);
  return `    <${k}>${xmlEscape(value)}</${k}>`;
}

/** POSIX TZ offsets count west as positive: UTC-5 is `+5`, UTC+5:30 is `-5:30`. */
function posixOffset(minutes: number): string {
  const west = -minutes;
  const abs = Math.abs(west);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return `${west < 0 ? '-' : '+'}${h}${m ? `:${String(m).padStart(2, '0')}` : ''}`;
}

export interface DstEdgeLike {
  month: number;
  week: number;
  weekday: number;
  hour: number;
}

/**
 * The custom time zone string Grandstream takes in P246 when P64 is `customize`: POSIX TZ
 * (`MTZ+5MDT+4,M3.2.0/02:00:00,M11.1.0/02:00:00`), the form the GDS file in the corpus uses.
 */
export function posixTz(standardMinutes: number, dst?: { start: DstEdgeLike; end: DstEdgeLike; saveMinutes: number }): string {
  const std = `MTZ${posixOffset(standardMinutes)}`;
  if (!dst) return std;
  const edge = (e: DstEdgeLike) => `M${e.month}.${e.week}.${e.weekday}/${String(e.hour).padStart(2, '0')}:00:00`;
  return `${std}MDT${posixOffset(standardMinutes + dst.saveMinutes)},${edge(dst.start)},${edge(dst.end)}`;
}

/** A firmware URL split as Grandstream wants it: P212 (0 TFTP, 1 HTTP, 2 HTTPS) and P192 (server path, no scheme, no file). */
export function firmwareServer(url: string): { via: string; path: string } | undefined {
  const m = /^(tftp|https?):\/\/(.+)\/[^/]*$/i.exec(url);
  if (!m) return undefined;
  const scheme = m[1]!.toLowerCase();
  return { via: scheme === 'tftp' ? '0' : scheme === 'http' ? '1' : '2', path: m[2]! };
}
