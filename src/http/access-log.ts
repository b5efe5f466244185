// One JSON line per request (pino), written at the end of the event-loop turn (log-destination.ts).

import { pino, type Logger, type DestinationStream } from 'pino';
import { TurnBatchedDestination } from './log-destination.js';

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
    dest ?? new TurnBatchedDestination(1),
  );
}

export function logAccess(log: Logger, r: AccessRecord): void {
  log.info(r);
}

/**
 * Hands each answered request to the inventory (inventory/inventory.ts), called beside
 * logAccess wherever a request ends, with the two headers the log line does not carry.
 */
export type Observe = (r: AccessRecord, userAgent: string | undefined, etag: string | undefined) => void;
