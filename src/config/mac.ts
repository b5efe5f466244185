// MAC addresses arrive in every notation phones and admins use: bare hex, colon- or
// dash-separated, Cisco dotted, any case. Everything inside deskset uses one canonical
// form: 12 lowercase hex digits.

const BARE = /^[0-9a-f]{12}$/i;
const SEPARATED = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;
const DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i;

/** Canonical 12-hex lowercase MAC, or undefined when `text` is not a MAC in a known notation. */
export function normalizeMac(text: string): string | undefined {
  if (text.length > 17) return undefined;
  if (BARE.test(text)) return text.toLowerCase();
  if (SEPARATED.test(text) || DOTTED.test(text)) return text.replace(/[:.-]/g, '').toLowerCase();
  return undefined;
}

/** The first three bytes, the vendor's OUI, lowercase hex. */
export function ouiOf(mac: string): string {
  return mac.slice(0, 6);
}

/** The spellings a template may want: `c81fea83e85a`, `C81FEA83E85A`, `c8:1f:ea:83:e8:5a`. */
export function macForms(mac: string): { mac: string; MAC: string; mac_colon: string; MAC_colon: string } {
  const pairs = mac.match(/../g) ?? [];
  return {
    mac,
    MAC: mac.toUpperCase(),
    mac_colon: pairs.join(':'),
    MAC_colon: pairs.join(':').toUpperCase(),
  };
}

/** The all-zero MAC that Poly uses for "any phone" file names (000000000000.cfg). */
export const ZERO_MAC = '000000000000';
