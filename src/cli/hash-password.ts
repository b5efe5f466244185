// `deskset hash-password`: read a password (never from argv, which `ps` and shell history
// would keep) and print the scrypt hash to put in a profile's auth.password. At a terminal it
// asks twice without echo, so a typo cannot become the password; on a pipe it reads one line.

import { hashPassword } from '../security/password.js';
import { guarded, parse, UsageError } from './common.js';
import { COMMANDS } from './commands.js';
import { readHidden } from './read-hidden.js';

export function run(args: string[]): Promise<number> {
  return guarded('hash-password', async () => {
    const { positionals } = parse(args, COMMANDS['hash-password']);
    if (positionals.length) throw new UsageError('takes no arguments; type the password at the prompt or pipe it on stdin');
    let password: string;
    if (process.stdin.isTTY) {
      // Prompts are incidental: stderr, so `deskset hash-password > hash.txt` still prompts.
      const first = await readHidden('Password: ', process.stdin, process.stderr);
      if (first === undefined) return 130;
      if (!first) throw new UsageError('empty password');
      const again = await readHidden('Again: ', process.stdin, process.stderr);
      if (again === undefined) return 130;
      if (again !== first) {
        process.stderr.write('deskset hash-password: the passwords differ; nothing printed\n');
        return 1;
      }
      password = first;
    } else {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (!password) throw new UsageError('empty password on stdin');
    }
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  });
}
