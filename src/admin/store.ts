// The part of the state store (src/store/contract.ts) the admin API uses.

import type { StateStore } from '../store/contract.js';

export type AdminStore = Pick<
  StateStore,
  'appendAudit' | 'listAudit' | 'recordLoginFailure' | 'clearLoginFailures' | 'countLoginFailures' | 'verifyApiToken' | 'getDevice' | 'listDevices'
>;
