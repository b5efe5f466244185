// How a value is written into an Avaya script: `SET NAME value`, one statement a line.

import { RenderValueError } from '../contract.js';
import { nameCheck, singleLine, text } from '../values.js';

const isAvayaName = nameCheck(/^[A-Za-z][A-Za-z0-9_]*$/);

/** Can a SET value hold this at all? The phone's parser has no escape for `"` or a line break. */
export function avayaCarries(value: string): boolean {
  return !/["\r\n\u0000]/.test(value);
}

/** `SET NAME value`, quoted when the value has spaces or is empty, as the phone's parser needs. */
export function avayaSet(name: unknown, value: unknown): string {
  const n = text(name);
  if (!isAvayaName(n)) throw new RenderValueError(`"${n}" is not a valid Avaya parameter name`);
  const v = singleLine(text(value), n);
  // The phone's parser has no escape for a double quote inside a quoted value.
  if (v.includes('"')) throw new RenderValueError(`${n}: Avaya values cannot contain a double quote`);
  const needsQuotes = v === '' || /\s/.test(v) || v.startsWith('#');
  return `SET ${n} ${needsQuotes ? `"${v}"` : v}`;
}
