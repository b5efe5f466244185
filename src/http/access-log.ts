// One JSON line per request, written asynchronously (pino), so logging never blocks a reply.

import { pino, type Logger, type DestinationStream } from 'pino';

export interface AccessRecord {
  ip: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  ms: number;
  mac?: string;
  model?: string;
  reason?: string;
}

export function createLogger(dest?: DestinationStream): Logger {
  return pino(
    {
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest ?? pino.destination({ dest: 1, sync: false }),
  );
}

export function logAccess(log: Logger, r: AccessRecord): void {
  log.info(r);
}
