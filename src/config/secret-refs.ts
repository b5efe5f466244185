// Secret references in profile values, so passwords need not be committed to the profile
// repository:
//
//   password: ${env:LINE1_PASSWORD}        an environment variable of the deskset process
//   password: ${file:secrets/line1.txt}    a file, relative to the config root
//
// Resolved when a snapshot is built. Pure: the environment and the file reader are injected,
// and the input tree is never mutated (the caller may still hold it for `explain`).
//
// Decisions:
// - A reference must be the WHOLE scalar. `sip:${env:X}@host` is not resolved and gets a
//   warning: splicing secrets into larger strings makes them hard to redact reliably and
//   collides with text that merely contains `${` (URLs, vendor macros). Anything that needs a
//   composite value can build it in the template.
// - `$${…}` is the escape for a literal value that starts with `${`: one `$` is removed.
// - A resolved value keeps the loc of the reference, so `explain` and errors point at the
//   line that asked for the secret. Values stay strings (a numeric PIN stays "1234").
// - Missing variable/file, an empty value, or a path that could leave the root are errors
//   located at the value; messages name the reference, never a value.
// - File contents lose ONE trailing newline (`\n` or `\r\n`), as `echo pw > file` writes one.
// - `file:` paths are checked syntactically here (relative, no `..` after normalisation, no
//   NUL, no backslash); the reader at the edge must still realpath-check symlinks.

import path from 'node:path';
import type { Diagnostic, SourceLoc } from '../check/diagnostics.js';
import { REDACTED } from './redact.js';
import { PEntry, PList, PMap, PScalar, type PNode } from './yaml-tree.js';

export interface SecretRefContext {
  env: (name: string) => string | undefined;
  /** Contents of a file relative to the config root (already normalised), or undefined when missing. */
  readFile: (rel: string) => string | undefined;
  /** The file the tree came from; used when a node somehow has no location. */
  file: string;
}

export interface SecretRefResult {
  tree: PNode;
  diagnostics: Diagnostic[];
  /** Every value that came from a reference, so logs and previews can redact it wherever it appears. */
  secrets: Set<string>;
}

const REF = /^\$\{([A-Za-z]+):([^}]*)\}$/;
const ESCAPED = /^\$\$\{/;
const EMBEDDED = /\$\{(env|file):/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isSecretRef(value: unknown): boolean {
  return typeof value === 'string' && REF.test(value);
}

export function resolveSecretRefs(root: PNode, ctx: SecretRefContext): SecretRefResult {
  const diagnostics: Diagnostic[] = [];
  const secrets = new Set<string>();
  const fallback: SourceLoc = { file: ctx.file, line: 1, col: 1 };

  const scalar = (value: string, loc: SourceLoc): string => {
    if (ESCAPED.test(value)) return value.slice(1);
    const m = REF.exec(value);
    if (!m) {
      if (EMBEDDED.test(value)) {
        diagnostics.push({ code: 'SECRET_REF_EMBEDDED', severity: 'warning', message: 'a secret reference is resolved only when it is the whole value; this one is kept as text', loc });
      }
      return value;
    }
    const [, scheme, arg] = m as unknown as [string, string, string];
    const ref = `\${${scheme}:${printable(arg)}}`;
    const fail = (code: string, message: string): string => {
      diagnostics.push({ code, severity: 'error', message, loc });
      return value;
    };
    let resolved: string | undefined;
    if (scheme === 'env') {
      if (!ENV_NAME.test(arg)) return fail('SECRET_REF_INVALID', `${ref}: an environment variable name is letters, digits and _`);
      resolved = ctx.env(arg);
      if (resolved === undefined) return fail('SECRET_REF_MISSING', `${ref}: environment variable ${arg} is not set`);
    } else if (scheme === 'file') {
      const rel = safeRelative(arg);
      if (rel === undefined) return fail('SECRET_REF_ESCAPES', `${ref}: the path escapes the config root (it must be relative, without "..")`);
      resolved = ctx.readFile(rel);
      if (resolved === undefined) return fail('SECRET_REF_MISSING', `${ref}: file ${rel} does not exist in the config root`);
      resolved = resolved.replace(/\r?\n$/, '');
    } else {
      return fail('SECRET_REF_INVALID', `${ref}: unknown reference kind "${scheme}" (expected env or file)`);
    }
    // An empty secret is always a mistake (`export PW=`), and would make an empty password valid.
    if (resolved === '') return fail('SECRET_REF_EMPTY', `${ref} resolves to an empty value`);
    secrets.add(resolved);
    return resolved;
  };

  const walk = (node: PNode): PNode => {
    switch (node.kind) {
      case 'scalar':
        // Only text with `${` can be (or escape) a reference; everything else is kept as it is.
        if (typeof node.value !== 'string' || !node.value.includes('${')) return node;
        {
          const value = scalar(node.value, node.loc ?? fallback);
          // Marked, so a credential check can tell a resolved secret from a typed-in plaintext.
          return value === node.value ? node : new PScalar(value, node.src, node.off, REF.test(node.value));
        }
      case 'list':
        return new PList(node.items.map(walk), node.src, node.off);
      case 'map': {
        const entries = new Map<string, PEntry>();
        for (const [k, e] of node.entries) entries.set(k, new PEntry(walk(e.node), e.src, e.keyOff));
        return new PMap(entries, node.src, node.off);
      }
    }
  };

  return { tree: walk(root), diagnostics, secrets };
}

/** The normalised relative path, or undefined when it is absolute, climbs out, or is not a plain path. */
function safeRelative(p: string): string | undefined {
  if (p === '' || p.includes('\0') || p.includes('\\')) return undefined;
  // POSIX absolute, and Windows drive paths for roots checked out on Windows.
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return undefined;
  const n = path.posix.normalize(p);
  if (n === '.' || n === '..' || n.startsWith('../') || n.split('/').includes('..')) return undefined;
  return n;
}

/** References are echoed in messages; keep them on one line and short. */
function printable(s: string): string {
  const t = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}

/**
 * Replace every occurrence of a known secret in `text` (a log line, a rendered preview, an
 * error message). Longest first, so a secret that contains another is masked whole.
 */
export function redactSecrets(text: string, secrets: ReadonlySet<string>): string {
  if (secrets.size === 0 || text === '') return text;
  let re = matchers.get(secrets);
  if (!re) {
    // One alternation, longest first, built once per set: a 10,000-device root has tens of
    // thousands of secrets and check prints thousands of lines.
    const alts = [...secrets].filter((s) => s !== '').sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    re = alts.length ? new RegExp(alts.join('|'), 'g') : /(?!)/g;
    matchers.set(secrets, re);
  }
  return text.replace(re, REDACTED);
}

const matchers = new WeakMap<ReadonlySet<string>, RegExp>();
