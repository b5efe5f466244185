// Reads a rendered Poly file back as the phone does: every attribute of every element, by
// name (Poly parameters are attributes: <reg reg.1.displayName="…"/>), parsed by libxml2.
// Imported on first use: instantiating libxml2's WASM costs ~150 ms of CPU, and only the
// contract suite reads files back.

import type { XmlTreeNode } from 'libxml2-wasm';

export async function readPolyXml(xml: string): Promise<Map<string, string>> {
  const { XmlDocument, XmlElement } = await import('libxml2-wasm');
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
