// `deskset hash-password`: read a password from stdin (never from argv, which `ps` and shell
// history would keep) and print the scrypt hash to put in a profile's auth.password.

import { hashPassword } from '../security/password.js';
import { guarded, UsageError } from './common.js';

export function run(args: string[]): Promise<number> {
  return guarded('hash-password', async () => {
    if (args.length) throw new UsageError('takes no arguments; pipe the password on stdin');
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (!password) throw new UsageError('empty password on stdin');
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  });
}
