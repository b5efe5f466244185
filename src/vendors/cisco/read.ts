// Reads a rendered Cisco file back as the phone does, parsed by libxml2: every leaf element's
// text by its path below the root. <flat-profile> gives the parameter names themselves
// (Display_Name_1_); the enterprise files give dotted paths, an element with a `button`
// attribute indexed by it (sipProfile.sipLines.line[1].displayName). A later duplicate wins,
// as on the phone.

import { XmlDocument, XmlElement, type XmlTreeNode } from 'libxml2-wasm';

export function readCiscoXml(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  const doc = XmlDocument.fromString(xml);
  try {
    const walk = (n: XmlTreeNode | null, prefix: string): void => {
      for (; n; n = n.next) {
        if (!(n instanceof XmlElement)) continue;
        const button = n.attr('button')?.value;
        const name = `${prefix}${n.name}${button !== undefined ? `[${button}]` : ''}`;
        let child: XmlTreeNode | null = n.firstChild;
        while (child && !(child instanceof XmlElement)) child = child.next;
        if (child) walk(child, `${name}.`);
        else out.set(name, n.content);
      }
    };
    walk(doc.root.firstChild, '');
  } finally {
    doc.dispose();
  }
  return out;
}
