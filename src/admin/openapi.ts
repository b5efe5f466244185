// The admin API's OpenAPI 3.1 document, written by hand so it says what we mean, and checked
// against every route's real answers (test/admin-openapi.test.ts).

import { PROBLEM_KINDS, PROBLEM_TYPE_BASE } from './problem.js';
import { LIFECYCLES } from '../enroll/lifecycle.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const nullable = (type: string) => ({ type: [type, 'null'] });

/** Answers every authenticated route can give besides its own. */
const COMMON = {
  '400': problem('Bad input: an unknown, repeated or malformed parameter'),
  '401': problem('No or wrong credentials'),
  '429': problem('Locked out: too many failed logins from this address for this user'),
};

const pagingParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
const macParam = { name: 'mac', in: 'path', required: true, description: 'Any MAC notation (0004f2a1b2c3, 00:04:F2:A1:B2:C3, 0004.f2a1.b2c3)', schema: { type: 'string' } };

const finding = {
  type: 'object',
  required: ['code', 'severity', 'message', 'at', 'device'],
  additionalProperties: false,
  properties: { code: { type: 'string' }, severity: { enum: ['error', 'warning', 'info'] }, message: { type: 'string' }, at: { ...nullable('string'), description: 'file:line:col' }, device: nullable('string') },
};

const DEVICE_PROPS = {
  mac: { type: ['string', 'null'], pattern: '^[0-9a-f]{12}$', description: 'null for a placeholder no phone holds yet' },
  configured: { type: 'boolean', description: 'Has a device profile in the root' },
  vendor: nullable('string'),
  model: nullable('string'),
  site: nullable('string'),
  groups: { type: 'array', items: { type: 'string' } },
  firmware: nullable('string'),
  hardware: nullable('string'),
  ip: nullable('string'),
  firstSeen: nullable('string'),
  lastSeen: nullable('string'),
  result: { enum: ['ok', 'stale', 'failing', 'never', 'unknown'], description: 'Provision result (docs/state.md)' },
  state: { enum: [...LIFECYCLES, null], description: 'Enrollment lifecycle (docs/enrollment.md); null when enrollment is off or has no word on the device' },
  placeholder: { type: 'string', description: 'A placeholder’s row: its name' },
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'deskset admin API',
    version: '1',
    description: 'Inventory, previews and state of a deskset provisioning server. Authenticate with HTTP Basic (admin.users in deskset.yaml) or a Bearer API token (`deskset admin token issue`). Errors are RFC 9457 problem details.',
  },
  servers: [{ url: '/api/v1' }],
  security: [{ basic: [] }, { bearer: [] }],
  paths: {
    '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
    '/status': { get: { summary: 'Server health, version, snapshot age, reload problems', responses: { '200': { description: 'Status', content: json(ref('Status')) }, ...COMMON } } },
    '/snapshot': { get: { summary: 'The serving snapshot: id, age, its errors and warnings with file:line', responses: { '200': { description: 'Snapshot', content: json(ref('Snapshot')) }, ...COMMON } } },
    '/devices': {
      get: {
        summary: 'The inventory joined with the root, searchable and paged',
        parameters: [{ name: 'where', in: 'query', description: "Avaya DES operators over any column: = != ^= (starts) $= (ends) *= (contains), combined with and/or; e.g. `model=VVX450 and firmware^=5.9`", schema: { type: 'string' } },
          { name: 'stale', in: 'query', description: 'Add configured devices not up to date: stale, never seen, or not seen for this long (90s, 30m, 12h, 3d, 2w; 0: by result only)', schema: { type: 'string' } },
          { name: 'unknown', in: 'query', description: 'Add devices seen but not configured', schema: { type: 'boolean' } },
          { name: 'never', in: 'query', description: 'Add configured devices never seen', schema: { type: 'boolean' } },
          ...pagingParams,
        ],
        responses: { '200': { description: 'A page of devices', content: json(ref('DevicePage')) }, ...COMMON },
      },
    },
    '/devices/export.csv': { get: { summary: 'Every device as CSV (Poly PDMS-E columns, plus inventory columns)', responses: { '200': { description: 'CSV', content: { 'text/csv': { schema: { type: 'string' } } } }, ...COMMON, '501': problem('CSV export not available') } } },
    '/devices/import': {
      post: {
        summary: 'Import devices from CSV; a dry run (the default) returns the diff and changes nothing',
        parameters: [
          { name: 'dry_run', in: 'query', schema: { type: 'boolean', default: true } },
          { name: 'mode', in: 'query', description: 'create: new devices only (as the CLI without flags); merge: keep existing keys and comments; overwrite: replace device files', schema: { enum: ['create', 'merge', 'overwrite'], default: 'create' } },
        ],
        requestBody: { required: true, content: { 'text/csv': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object', required: ['csv'], additionalProperties: false, properties: { csv: { type: 'string' } } } } } },
        responses: {
          '200': { description: 'Diff (dry run) or what was written', content: json(ref('ImportResult')) },
          '422': { description: 'Bad rows: nothing written', content: json(ref('ImportResult')) },
          ...COMMON,
          '403': problem('Needs the admin role'),
          '413': problem('Body over admin.max_body_bytes'),
          '415': problem('Not text/csv or application/json'),
          '501': problem('CSV import not available'),
        },
      },
    },
    '/devices/{mac}': {
      get: { summary: 'One device: inventory record plus `deskset explain --json`', parameters: [macParam], responses: { '200': { description: 'Device', content: json(ref('DeviceDetail')) }, ...COMMON, '404': problem('Neither configured nor seen') } },
    },
    '/devices/{mac}/files/{name}': {
      get: {
        summary: 'A file as that phone gets it; secrets masked unless an admin asks with secrets=show (audited)',
        parameters: [macParam, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }, { name: 'secrets', in: 'query', schema: { enum: ['masked', 'show'], default: 'masked' } }],
        responses: { '200': { description: 'The rendered file', content: { '*/*': { schema: { type: 'string' } } } }, ...COMMON, '403': problem('secrets=show needs the admin role'), '404': problem('No such device or file') },
      },
    },
    '/audit': {
      get: {
        summary: 'The audit log, newest first (admin role)',
        parameters: [
          ...pagingParams,
          { name: 'actor', in: 'query', schema: { type: 'string' } },
          { name: 'action', in: 'query', schema: { type: 'string' } },
          { name: 'action_prefix', in: 'query', description: 'e.g. `POST ` or `token.`', schema: { type: 'string' } },
          { name: 'result', in: 'query', schema: { type: 'string' } },
          { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' } },
          { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: { '200': { description: 'A page of audit entries', content: json(ref('AuditPage')) }, ...COMMON, '403': problem('Needs the admin role'), '501': problem('No state store (state: off)') },
      },
    },
    '/enroll': {
      post: {
        summary: 'Redeem an activation or enrollment code for a phone that cannot type one (docs/enrollment.md). No credentials: the code is one; wrong codes count toward the MAC’s lockout for the caller’s address.',
        security: [],
        requestBody: {
          required: true,
          content: json({
            type: 'object',
            required: ['code', 'mac'],
            additionalProperties: false,
            properties: { code: { type: 'string' }, mac: { type: 'string' }, model: { type: 'string', description: 'Default: the model the inventory last saw the MAC’s User-Agent name' } },
          }),
        },
        responses: {
          '201': { description: 'Bound', content: json(ref('Enrolled')) },
          '400': problem('Bad input, or no model given and none seen'),
          '403': problem('The code was not accepted (the same answer for every reason; the audit log has it)'),
          '404': problem('Enrollment is off'),
          '415': problem('Not JSON'),
          '429': problem('Locked: too many wrong codes for this MAC from this address, or too many MACs tried'),
        },
      },
    },
  },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' }, bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Enrolled: {
        type: 'object',
        required: ['mac', 'model', 'code', 'placeholder', 'site', 'groups', 'boundAt'],
        additionalProperties: false,
        properties: { mac: { type: 'string', pattern: '^[0-9a-f]{12}$' }, model: { type: 'string' }, code: { type: 'string', description: 'e.g. `activation code …1234` (never the code)' }, placeholder: nullable('string'), site: nullable('string'), groups: { type: 'array', items: { type: 'string' } }, boundAt: { type: 'string', format: 'date-time' } },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'detail'],
        additionalProperties: false,
        properties: {
          type: { enum: Object.keys(PROBLEM_KINDS).map((k) => PROBLEM_TYPE_BASE + k) },
          title: { type: 'string' },
          status: { type: 'integer', minimum: 400, maximum: 599 },
          detail: { type: 'string' },
          instance: { type: 'string' },
          errors: { type: 'array', items: { type: 'object', required: ['where', 'message'], additionalProperties: false, properties: { where: { type: 'string' }, message: { type: 'string' } } } },
        },
      },
      Finding: finding,
      Status: {
        type: 'object',
        required: ['ok', 'version', 'startedAt', 'uptimeSeconds', 'snapshot', 'errors', 'warnings', 'validating', 'lastReload', 'inventory'],
        additionalProperties: false,
        properties: {
          ok: { type: 'boolean' },
          version: { type: 'string' },
          startedAt: { type: 'string', format: 'date-time' },
          uptimeSeconds: { type: 'integer', minimum: 0 },
          snapshot: { type: 'object', required: ['id', 'ageSeconds', 'devices'], additionalProperties: false, properties: { id: { type: 'string' }, ageSeconds: { type: 'integer', minimum: 0 }, devices: { type: 'integer', minimum: 0 } } },
          errors: { type: 'array', items: ref('Finding') },
          warnings: { type: 'array', items: ref('Finding') },
          validating: { type: ['object', 'null'], required: ['done', 'total'], properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
          lastReload: { type: ['object', 'null'], required: ['at', 'ok', 'ms', 'changed'], properties: { at: { type: 'string' }, ok: { type: 'boolean' }, ms: { type: 'number' }, changed: { type: 'array', items: { type: 'string' } } } },
          inventory: { type: 'boolean', description: 'Whether a state store feeds the inventory' },
        },
      },
      Snapshot: {
        type: 'object',
        required: ['id', 'loadedAt', 'ageSeconds', 'devices', 'errors', 'warnings'],
        additionalProperties: false,
        properties: { id: { type: 'string' }, loadedAt: { type: 'string', format: 'date-time' }, ageSeconds: { type: 'integer', minimum: 0 }, devices: { type: 'integer', minimum: 0 }, errors: { type: 'array', items: ref('Finding') }, warnings: { type: 'array', items: ref('Finding') } },
      },
      Device: {
        type: 'object',
        required: ['mac', 'configured', 'vendor', 'model', 'site', 'groups', 'firmware', 'hardware', 'ip', 'firstSeen', 'lastSeen', 'result', 'state'],
        additionalProperties: false,
        properties: DEVICE_PROPS,
      },
      DevicePage: {
        type: 'object',
        required: ['total', 'limit', 'offset', 'items'],
        additionalProperties: false,
        properties: { total: { type: 'integer', minimum: 0 }, limit: { type: 'integer' }, offset: { type: 'integer' }, items: { type: 'array', items: ref('Device') } },
      },
      DeviceDetail: {
        type: 'object',
        required: ['mac', 'configured', 'vendor', 'model', 'site', 'groups', 'firmware', 'hardware', 'ip', 'firstSeen', 'lastSeen', 'result', 'state', 'files', 'fetched', 'explain'],
        additionalProperties: false,
        properties: {
          ...DEVICE_PROPS,
          files: { type: 'array', items: { type: 'string' }, description: 'Names of the files this phone gets (GET …/files/{name})' },
          fetched: { type: 'array', items: ref('FileFetch'), description: 'What the phone last fetched, per file (inventory)' },
          explain: { oneOf: [ref('Explanation'), { type: 'null' }] },
        },
      },
      FileFetch: {
        type: 'object',
        required: ['name', 'status', 'bytes', 'at'],
        additionalProperties: false,
        properties: { name: { type: 'string' }, fileId: { type: 'string' }, status: { type: 'integer' }, bytes: { type: 'integer' }, etag: { type: 'string' }, at: { type: 'string' } },
      },
      Origin: { type: 'object', required: ['layer', 'at'], properties: { layer: { type: 'string' }, at: { type: 'string' } } },
      Explanation: {
        type: 'object',
        description: 'The output of `deskset explain MAC --json`',
        required: ['device', 'layers', 'files', 'phoneOverrides', 'firmware', 'values', 'removed'],
        additionalProperties: false,
        properties: {
          device: { type: 'object', required: ['mac', 'model', 'vendor', 'site', 'groups'], properties: { mac: { type: 'string' }, model: { type: 'string' }, vendor: { type: 'string' }, site: nullable('string'), groups: { type: 'array', items: { type: 'string' } } } },
          address: { type: 'object', description: 'With explain --ip only: the site an address selects, and why' },
          layers: { type: 'array', items: { type: 'object', required: ['layer', 'file'], properties: { layer: { type: 'string' }, name: { type: 'string' }, file: { type: 'string' } } } },
          files: { type: 'array', items: { type: 'string' } },
          phoneOverrides: { type: 'array', items: { type: 'object', required: ['name', 'bytes', 'modified'], properties: { name: { type: 'string' }, bytes: { type: 'integer' }, modified: { type: 'string' } } } },
          firmware: { type: 'object', required: ['policy', 'version', 'image', 'why', 'setAt', 'problem'], properties: { policy: { type: 'string' }, version: nullable('string'), image: nullable('string'), why: { type: 'string' }, setAt: { type: 'array', items: { type: 'string' } }, problem: nullable('string') } },
          values: { type: 'array', items: { type: 'object', required: ['key', 'value', 'setBy', 'overrode'], properties: { key: { type: 'string' }, value: {}, setBy: ref('Origin'), overrode: { type: 'array', items: { allOf: [ref('Origin')], required: ['value'] } } } } },
          removed: { type: 'array', items: { type: 'object', required: ['key', 'removedBy', 'was'], properties: { key: { type: 'string' }, removedBy: ref('Origin'), was: { type: 'array', items: ref('Origin') } } } },
        },
      },
      AuditEntry: {
        type: 'object',
        required: ['id', 'at', 'actor', 'source', 'action', 'result'],
        additionalProperties: false,
        properties: {
          id: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
          actor: { type: 'string', description: 'User name, token:<id>, cli, or - (not authenticated)' },
          source: { type: 'string', description: 'Source address, or local for the CLI' },
          action: { type: 'string', description: 'e.g. GET /api/v1/devices, token.issue' },
          result: { type: 'string', description: 'ok, denied, or the HTTP status of an error' },
          target: { type: 'string' },
          detail: { type: 'object' },
        },
      },
      AuditPage: {
        type: 'object',
        required: ['total', 'limit', 'offset', 'items'],
        additionalProperties: false,
        properties: { total: { type: 'integer', minimum: 0 }, limit: { type: 'integer' }, offset: { type: 'integer' }, items: { type: 'array', items: ref('AuditEntry') } },
      },
      ImportResult: {
        type: 'object',
        required: ['ok', 'dryRun', 'mode', 'summary', 'devices', 'findings', 'report', 'warnings'],
        additionalProperties: false,
        properties: {
          ok: { type: 'boolean', description: 'false: bad rows, nothing written (all or nothing)' },
          dryRun: { type: 'boolean' },
          mode: { enum: ['create', 'merge', 'overwrite'] },
          summary: { type: 'string' },
          devices: {
            type: 'array',
            items: {
              type: 'object',
              required: ['mac', 'line', 'file', 'action', 'plaintextSecrets', 'envRefs'],
              additionalProperties: false,
              properties: { mac: { type: 'string' }, line: { type: 'integer' }, file: { type: 'string' }, action: { enum: ['create', 'update', 'unchanged', 'skip'] }, plaintextSecrets: { type: 'array', items: { type: 'string' } }, envRefs: { type: 'array', items: { type: 'string' } } },
            },
          },
          findings: { type: 'array', items: ref('Finding'), description: 'Bad rows, with body.csv:line:col' },
          report: { type: 'string', description: 'Per device the YAML diff and the rendered-file diff (dry run), secrets masked' },
          warnings: { type: 'string' },
        },
      },
    },
  },
} as const;
