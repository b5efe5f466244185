// A small JSON Schema (2020-12 subset) checker for the admin API's OpenAPI document: the
// keywords that document uses and no more. An unknown keyword is an error, so the document
// cannot quietly use something this checker ignores.

type Schema = Record<string, unknown>;

const KNOWN = new Set(['$ref', 'type', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'allOf', 'oneOf', 'minimum', 'maximum', 'pattern', 'format', 'description', 'default']);

export function validate(value: unknown, schema: Schema, root: Schema, at = '$'): string[] {
  const errors: string[] = [];
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) errors.push(`${at}: schema uses unsupported keyword "${k}"`);
  if (typeof schema.$ref === 'string') {
    const target = schema.$ref.replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Schema | undefined)?.[k], root);
    if (!target) return [`${at}: unresolved $ref ${schema.$ref}`];
    errors.push(...validate(value, target as Schema, root, at));
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => isType(value, t))) return [...errors, `${at}: expected ${types.join(' or ')}, got ${describe(value)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${at}: ${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${at}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
  if (typeof value === 'string' && schema.format === 'date-time' && Number.isNaN(Date.parse(value))) errors.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of (schema.required as string[] | undefined) ?? []) if (!(r in obj)) errors.push(`${at}: missing required "${r}"`);
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errors.push(...validate(v, props[k], root, `${at}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${at}: unexpected property "${k}"`);
    }
  }
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errors.push(...validate(v, schema.items as Schema, root, `${at}[${i}]`)));
  for (const s of (schema.allOf as Schema[] | undefined) ?? []) errors.push(...validate(value, s, root, at));
  if (Array.isArray(schema.oneOf)) {
    const ok = (schema.oneOf as Schema[]).filter((s) => validate(value, s, root, at).length === 0).length;
    if (ok !== 1) errors.push(`${at}: matches ${ok} of the oneOf schemas, not exactly 1`);
  }
  return errors;
}

function isType(v: unknown, t: string): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'array':
      return Array.isArray(v);
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    default:
      return typeof v === t;
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}
