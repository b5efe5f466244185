// How a value is written into a Yealink .cfg: `key = value`, the value read to end of line.

import { RenderValueError } from '../contract.js';
import { nameCheck, singleLine, text } from '../values.js';

const isYealinkKey = nameCheck(/^[A-Za-z0-9_][A-Za-z0-9_.%-]*$/);

/** A value is verbatim to end of line: anything but a line break or NUL. */
export function yealinkCarries(value: string): boolean {
  return !/[\r\n\u0000]/.test(value);
}

/** `key = value`: Yealink reads the value to end of line, verbatim. */
export function yealinkLine(key: unknown, value: unknown): string {
  const k = text(key);
  if (!isYealinkKey(k)) throw new RenderValueError(`"${k}" is not a valid Yealink parameter name`);
  const v = singleLine(text(value), k);
  return `${k} = ${v}`;
}

/** `-5`, `+5.5`: the form Yealink's local_time.time_zone uses. */
export function formatOffsetHours(minutes: number): string {
  const h = minutes / 60;
  return `${h > 0 ? '+' : ''}${h}`;
}
