// A small TFTP read client for the bench's boot storm: one phone, one file, from its own
// source address. It behaves as phones' loaders do: RRQ (with blksize and tsize), ACK 0 for
// an OACK, lock-step ACKs, the last ACK re-sent for a duplicate block, and the last packet
// re-sent after a jittered timeout (1-2 s), up to 8 times. Plain JS (the bench runs no TypeScript).

import dgram from 'node:dgram';

const RRQ = 1;
const DATA = 3;
const ACK = 4;
const ERROR = 5;
const OACK = 6;

function rrq(name, options) {
  const opts = Object.entries(options).map(([k, v]) => `${k}\0${v}\0`).join('');
  return Buffer.concat([Buffer.from([0, RRQ]), Buffer.from(`${name}\0octet\0${opts}`, 'latin1')]);
}

function ack(block) {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(ACK, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

/**
 * Fetch `name` from host:port. Resolves { bytes, retransmits } or rejects with the reason.
 * `options` go into the RRQ ({} for plain RFC 1350); `bind` is the source address.
 */
export function tftpGet(host, port, name, { bind = '127.0.0.1', options = { blksize: 1428, tsize: 0 }, timeoutMs = 1000, retries = 8 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const chunks = [];
    let blksize = 512;
    let expected = 1;
    let tid;
    let last = rrq(name, options);
    let tries = 0;
    let retransmits = 0;
    let timer;
    let done = false;
    const finish = (err, value, lastAck) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // The final ACK must leave before the socket closes (a close right after send drops it),
      // or the server retransmits the last block to nobody until it gives up.
      if (lastAck) sock.send(lastAck, tid, host, () => sock.close());
      else sock.close();
      if (err) reject(err);
      else resolve(value);
    };
    const send = (buf) => {
      last = buf;
      sock.send(buf, tid ?? port, host);
      arm();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (++tries > retries) return finish(new Error(`timed out (${name}, block ${expected})`));
        retransmits++;
        sock.send(last, tid ?? port, host);
        arm();
      }, timeoutMs * (1 + Math.random())); // jittered, as phones' timers are: a thousand retransmissions in one millisecond are a second storm
    };
    sock.on('error', (e) => finish(e));
    sock.on('message', (msg, from) => {
      if (tid === undefined) tid = from.port;
      else if (from.port !== tid) return;
      const op = msg.readUInt16BE(0);
      if (op === ERROR) return finish(new Error(`ERROR ${msg.readUInt16BE(2)} ${msg.toString('latin1', 4, msg.length - 1)} (${name})`));
      if (op === OACK) {
        const parts = msg.toString('latin1', 2).split('\0');
        for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i].toLowerCase() === 'blksize') blksize = Number(parts[i + 1]);
        tries = 0;
        return send(ack(0));
      }
      if (op !== DATA) return;
      const block = msg.readUInt16BE(2);
      if (block !== (expected & 0xffff)) {
        // A duplicate: our ACK was lost or late. Say again what we have (never ask ahead).
        sock.send(ack(expected - 1), tid, host);
        return;
      }
      const data = msg.subarray(4);
      chunks.push(Buffer.from(data));
      tries = 0;
      const a = ack(expected);
      expected++;
      if (data.length < blksize) return finish(undefined, { bytes: Buffer.concat(chunks), retransmits }, a);
      send(a);
    });
    sock.bind(0, bind, () => send(last));
  });
}
