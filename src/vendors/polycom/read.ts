// Reads a rendered Poly file back as the phone does: every attribute of every element, by
// name (Poly parameters are attributes: <reg reg.1.displayName="…"/>), parsed by libxml2.

import { XmlDocument, XmlElement, type XmlTreeNode } from 'libxml2-wasm';

export function readPolyXml(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  const doc = XmlDocument.fromString(xml);
  try {
    const walk = (n: XmlTreeNode | null): void => {
      for (; n; n = n.next) {
        if (!(n instanceof XmlElement)) continue;
        for (const a of n.attrs) out.set(a.name, a.value);
        walk(n.firstChild);
      }
    };
    walk(doc.root);
  } finally {
    doc.dispose();
  }
  return out;
}
