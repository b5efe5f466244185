// Firmware versions compare numerically, part by part: 4.1.13 > 4.1.3, 6.4.6.2945 > 6.4.6.
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[._-]/);
  const pb = b.split(/[._-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    // Mixed parts (10a, R9) compare with digits as numbers: 10a > 9a, R10 > R9.
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : natural.compare(x, y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
