// Option negotiation for a read request: what the client asked, what we grant. Pure.
// RFC 2347 §3: the server answers with an OACK naming only the options it accepts; an option
// it does not know, or will not take, is left out (the client then uses the default). When
// nothing is accepted there is no OACK at all and DATA 1 follows the request (RFC 1350).

export interface Limits {
  /** Largest blksize granted (RFC 2348 allows up to 65464). */
  maxBlksize: number;
  /** Largest windowsize granted (RFC 7440 allows up to 65535). */
  maxWindowsize: number;
}

export const DEFAULT_LIMITS: Limits = { maxBlksize: 65464, maxWindowsize: 64 };

/** RFC 1350's fixed block size, and the retransmission timeout when the client names none. */
export const DEFAULT_BLKSIZE = 512;
export const DEFAULT_TIMEOUT_S = 1;

export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** Seconds before the first retransmission. */
  timeoutS: number;
  /** What goes into the OACK (names lowercased, values as granted); empty: no OACK. */
  oack: Record<string, string>;
}

/** A decimal integer as RFC 2347 writes one ("ASCII-encoded"): no sign, no spaces, no exponent. */
function decimal(v: string | undefined): number | undefined {
  if (v === undefined || !/^[0-9]{1,10}$/.test(v)) return undefined;
  return Number(v);
}

export function negotiate(requested: Record<string, string>, size: number, limits: Limits = DEFAULT_LIMITS): Negotiated {
  const oack: Record<string, string> = {};
  let blksize = DEFAULT_BLKSIZE;
  let windowsize = 1;
  let timeoutS = DEFAULT_TIMEOUT_S;

  // RFC 2348: "Valid values range between 8 and 65464 octets, inclusive." A larger request may
  // be answered with a smaller value; a value below 8 is not valid and the option is ignored.
  const b = decimal(requested.blksize);
  if (b !== undefined && b >= 8) {
    blksize = Math.min(b, limits.maxBlksize, 65464);
    oack.blksize = String(blksize);
  }

  // RFC 2349 §2 (timeout): "Valid values range between 1 and 255 seconds"; the server must
  // answer with the same value or ignore the option.
  const t = decimal(requested.timeout);
  if (t !== undefined && t >= 1 && t <= 255) {
    timeoutS = t;
    oack.timeout = String(t);
  }

  // RFC 2349 §3 (tsize): in a read request the client sends 0 and the server answers with the
  // file's size. Any number is accepted as "0": the value a client sends means nothing here.
  if (decimal(requested.tsize) !== undefined) oack.tsize = String(size);

  // RFC 7440 §3: "valid values range between 1 and 65535 blocks"; the server may answer with a
  // smaller value, never a larger one.
  const w = decimal(requested.windowsize);
  if (w !== undefined && w >= 1 && w <= 65535) {
    windowsize = Math.min(w, limits.maxWindowsize);
    oack.windowsize = String(windowsize);
  }
  return { blksize, windowsize, timeoutS, oack };
}
