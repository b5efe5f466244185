// What the TFTP edge serves from: a name and a peer in, bytes (or a refusal) out. The edge
// knows nothing of devices or snapshots; deskset's adapter (deskset-source.ts) does.

import type { ReplyKind } from '../pipeline/reply.js';

export interface Remote {
  address: string;
  port: number;
}

/** A file too large to hold: read in ranges, closed when the transfer ends. */
export interface FileBody {
  /** Bytes [offset, offset + length), fewer only at the end of the file. A cached range comes back without a promise. */
  read(offset: number, length: number): Buffer | Promise<Buffer>;
  close(): Promise<void>;
}

/** What the access log says about a request besides its name and outcome. */
export interface LogFields {
  mac?: string;
  model?: string;
  reason?: string;
  /** Labels of the request metrics, as the pipeline's reply gave them. */
  vendor?: string;
  scope?: 'device' | 'model' | 'shared';
  kind?: ReplyKind;
}

export type Opened =
  | { ok: true; body: Buffer | FileBody; size: number; log: LogFields }
  /** code/message go to the client (RFC 1350 §5); status is the HTTP-like one for the access log. */
  | { ok: false; code: number; message: string; status: number; log: LogFields };

export interface TftpSource {
  open(path: string, remote: Remote): Promise<Opened>;
}

/** Read a whole FileBody into memory (netascii needs the bytes to translate them). */
export async function readAll(body: FileBody, size: number): Promise<Buffer> {
  return Buffer.from(await body.read(0, size));
}
