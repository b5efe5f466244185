// The TFTP server: a pure protocol core (packet, options, transfer, limits, netascii), the
// node:dgram edge (udp.ts) and deskset's source adapter (deskset-source.ts). See docs/tftp.md.

export { TftpServer, type TftpServerOptions, type TransferRecord } from './udp.js';
export { desksetSource, type DesksetSourceDeps } from './deskset-source.js';
export type { TftpSource, Opened, FileBody, Remote, LogFields } from './source.js';
