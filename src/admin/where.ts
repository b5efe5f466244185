// The device search of `?where=`: Avaya DES's operators over any column, combined with
// and/or (and binds tighter), e.g. `model=VVX450 and firmware^=5.9`.
//   =  equals        != not equals     ^= starts with
//   $= ends with     *= contains
// Comparisons ignore case, as DES's search does. Values may be quoted ('a b' or "a b").
// NOTE: the state store's `deskset devices --where` has its own parser (src/store/); this one
// stays behind compileWhere() so the two can be made one without touching the routes.

export type Row = object;
export type Predicate = (row: Row) => boolean;

export type WhereResult = { ok: true; test: Predicate } | { ok: false; error: string; at: number };

const OPS = ['!=', '^=', '$=', '*=', '='] as const;
type Op = (typeof OPS)[number];

const MAX_EXPR = 2000;

interface Cmp {
  column: string;
  op: Op;
  value: string;
}

/** Parse `expr` against the known `columns`; errors say where (0-based offset) and what. */
export function compileWhere(expr: string, columns: readonly string[]): WhereResult {
  if (expr.length > MAX_EXPR) return { ok: false, error: `longer than ${MAX_EXPR} characters`, at: MAX_EXPR };
  let i = 0;
  const fail = (error: string): never => {
    throw Object.assign(new Error(error), { at: i });
  };
  const ws = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  const keyword = (k: string): boolean => {
    ws();
    const m = new RegExp(`^${k}(?=\\s|$|["'])`, 'i').exec(expr.slice(i));
    if (!m) return false;
    i += k.length;
    return true;
  };
  const comparison = (): Predicate => {
    ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expr.slice(i));
    if (!m) fail('expected a column name');
    const column = m![0].toLowerCase();
    const known = columns.find((c) => c.toLowerCase() === column);
    if (!known) fail(`unknown column "${m![0]}" (known: ${columns.join(', ')})`);
    i += m![0].length;
    ws();
    const op = OPS.find((o) => expr.startsWith(o, i));
    if (!op) fail(`expected an operator after "${m![0]}" (=, !=, ^=, $=, *=)`);
    i += op!.length;
    ws();
    let value: string;
    const q = expr[i];
    if (q === '"' || q === "'") {
      const end = expr.indexOf(q, i + 1);
      if (end < 0) fail('unterminated quoted value');
      value = expr.slice(i + 1, end);
      i = end + 1;
    } else {
      const v = /^[^\s"']+/.exec(expr.slice(i));
      if (!v) fail(`expected a value after ${op}`);
      value = v![0];
      i += value.length;
    }
    return predicate({ column: known!, op: op!, value });
  };
  const conjunction = (): Predicate => {
    const parts = [comparison()];
    while (keyword('and')) parts.push(comparison());
    return parts.length === 1 ? parts[0]! : (row) => parts.every((p) => p(row));
  };
  try {
    const alts = [conjunction()];
    while (keyword('or')) alts.push(conjunction());
    ws();
    if (i < expr.length) fail(`unexpected "${expr.slice(i, i + 20)}" (combine comparisons with and/or)`);
    return { ok: true, test: alts.length === 1 ? alts[0]! : (row) => alts.some((p) => p(row)) };
  } catch (e) {
    return { ok: false, error: (e as Error).message, at: (e as { at?: number }).at ?? i };
  }
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(text).join('|');
  return String(v).toLowerCase();
}

function predicate(c: Cmp): Predicate {
  const want = c.value.toLowerCase();
  // A list column (groups) matches when any of its items does, except for !=, which needs all to differ.
  const each = (row: Row, f: (s: string) => boolean): boolean => {
    const v = (row as Record<string, unknown>)[c.column];
    return Array.isArray(v) ? v.some((x) => f(text(x))) : f(text(v));
  };
  switch (c.op) {
    case '=':
      return (row) => each(row, (s) => s === want);
    case '!=':
      return (row) => !each(row, (s) => s === want);
    case '^=':
      return (row) => each(row, (s) => s.startsWith(want));
    case '$=':
      return (row) => each(row, (s) => s.endsWith(want));
    case '*=':
      return (row) => each(row, (s) => s.includes(want));
  }
}
