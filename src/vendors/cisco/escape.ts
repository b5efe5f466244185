// How a value is written into a Cisco file: XML element text. MPP/SPA <flat-profile> is one
// element per parameter (<Display_Name_1_>…</Display_Name_1_>); the enterprise files nest.

import { RenderValueError } from '../contract.js';
import { nameCheck, text, xmlEscape } from '../values.js';

// MPP/SPA parameter names: letters, digits, `_` and `-` (RTP-Start-Loopback_Codec).
const isCiscoParam = nameCheck(/^[A-Za-z_][A-Za-z0-9_-]*$/);

/** `<Name>value</Name>`: one parameter of a flat profile (or of enterprise <vendorConfig>). */
export function ciscoElement(key: unknown, value: unknown): string {
  const k = text(key);
  if (!isCiscoParam(k)) throw new RenderValueError(`"${k}" is not a valid Cisco parameter (XML element) name`);
  return `  <${k}>${xmlEscape(value)}</${k}>`;
}

/** A firmware image's load name as <loadInformation> wants it: the file name without `.loads`. */
export function loadName(file: unknown): string {
  return text(file).replace(/\.loads$/i, '');
}
