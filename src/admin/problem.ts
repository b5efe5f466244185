// RFC 9457 problem details: every error the admin API answers has one of these kinds, each
// with a stable `type` URI that clients may switch on (the title and detail are for people).

export const PROBLEM_TYPE_BASE = 'https://deskset.dev/problems/';

export const PROBLEM_KINDS = {
  'bad-request': { status: 400, title: 'The request is malformed' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Your role may not do this' },
  'code-refused': { status: 403, title: 'The code was not accepted' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'not-acceptable': { status: 406, title: 'Not acceptable' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'locked-out': { status: 429, title: 'Too many failed logins from this address for this user' },
  'device-locked': { status: 429, title: 'Too many wrong codes for this device from this address' },
  'too-many-requests': { status: 429, title: 'Too many devices tried from this address' },
  internal: { status: 500, title: 'Internal error' },
  'not-implemented': { status: 501, title: 'Not implemented' },
} as const;

export type ProblemKind = keyof typeof PROBLEM_KINDS;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  /** For bad-request: which parameter or body part was wrong. */
  errors?: Array<{ where: string; message: string }>;
}

/** Thrown by handlers; the one responder (app.ts) turns it into problem+json. */
export class Problem extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly extra: { errors?: ProblemBody['errors']; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }

  get status(): number {
    return PROBLEM_KINDS[this.kind].status;
  }
}

export function problemBody(kind: ProblemKind, detail: string, instance?: string, errors?: ProblemBody['errors']): ProblemBody {
  const k = PROBLEM_KINDS[kind];
  return { type: PROBLEM_TYPE_BASE + kind, title: k.title, status: k.status, detail, ...(instance ? { instance } : {}), ...(errors?.length ? { errors } : {}) };
}

/** A bad-request for one named parameter. */
export function badParam(where: string, message: string): Problem {
  return new Problem('bad-request', `${where}: ${message}`, { errors: [{ where, message }] });
}
