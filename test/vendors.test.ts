// Every vendor folder the registry finds (src/vendors/*/index.ts) passes the one contract
// suite, test/vendor-contract.case.ts. A new vendor is held to it by existing, no edit here.

import { describe, expect, it } from 'vitest';
import { VENDORS, vendorFolders } from '../src/vendors/registry.js';
import { HAVE_REALWORLD, warnIfNoRealworld } from './helpers/shared.js';
import { vendorContract } from './vendor-contract.case.js';

warnIfNoRealworld('vendors.test.ts');

describe('the registry', () => {
  it('finds every vendor folder, and only folders with an index', () => {
    expect(VENDORS.map((v) => v.id)).toEqual(vendorFolders());
    // The three vendors deskset ships today; more folders only add to this.
    expect(VENDORS.map((v) => v.id)).toEqual(expect.arrayContaining(['avaya', 'polycom', 'yealink']));
  });
  it('runs the real-file checks', () => {
    expect(typeof HAVE_REALWORLD).toBe('boolean');
  });
});

for (const vendor of VENDORS) vendorContract(vendor);
