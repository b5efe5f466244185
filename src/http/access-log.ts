// The server's logger: pino JSON lines, written at the end of the event-loop turn
// (log-destination.ts). What an access line holds is the pipeline's (pipeline/access.ts).

import { pino, type Logger, type DestinationStream } from 'pino';
import { TurnBatchedDestination } from './log-destination.js';

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
