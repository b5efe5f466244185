// A small, tolerant XML reader for Poly config files: elements and their attributes with
// line numbers, comments kept so they can travel. Poly files carry no namespaces or entities
// beyond the predefined five and character references, and files are small (site.cfg: 118 KB).
// Errors are returned with a position, never thrown.

export interface XmlAttr {
  name: string;
  value: string;
  line: number;
  col: number;
}

export interface XmlElement {
  name: string;
  line: number;
  depth: number;
  attrs: XmlAttr[];
  /** Comments between the previous element start and this one. */
  comments: string[];
  /** Its own text (character data and CDATA, unescaped), outside its child elements. */
  text: string;
  /** Whether it holds elements (a leaf holds text only). */
  parent: boolean;
}

export interface XmlDoc {
  elements: XmlElement[];
  error?: { message: string; line: number; col: number };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, e: string) => {
    // An out-of-range reference is left as written (XML would reject the file; we must not throw).
    const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : e.startsWith('#') ? parseInt(e.slice(1), 10) : -1;
    if (e.startsWith('#')) return code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    return ENTITIES[e] ?? m;
  });
}

export function readXml(text: string): XmlDoc {
  const elements: XmlElement[] = [];
  const stack: string[] = [];
  const open: XmlElement[] = [];
  let comments: string[] = [];
  // Line starts, to turn offsets into line:col lazily.
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const pos = (off: number): { line: number; col: number } => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: off - starts[lo]! + 1 };
  };
  const fail = (message: string, off: number): XmlDoc => ({ elements, error: { message, ...pos(off) } });

  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt === -1) break;
    const between = text.slice(i, lt);
    if (stack.length === 0 && between.trim() !== '' && i > 0) return fail('text outside the root element', i + between.search(/\S/));
    if (open.length) open[open.length - 1]!.text += unescapeXml(between);
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end === -1) return fail('comment is never closed', lt);
      const c = text.slice(lt + 4, end).trim();
      if (c !== '') comments.push(...c.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== ''));
      i = end + 3;
      continue;
    }
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end === -1) return fail('processing instruction is never closed', lt);
      i = end + 2;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end === -1) return fail('CDATA section is never closed', lt);
      if (open.length) open[open.length - 1]!.text += text.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', lt)) {
      const end = text.indexOf('>', lt);
      if (end === -1) return fail('declaration is never closed', lt);
      i = end + 1;
      continue;
    }
    if (text.startsWith('</', lt)) {
      const m = /^<\/([^\s>]+)\s*>/.exec(text.slice(lt, lt + 300));
      if (!m) return fail('malformed end tag', lt);
      const top = stack.pop();
      open.pop();
      if (top !== m[1]) return fail(top === undefined ? `end tag </${m[1]}> without a start tag` : `end tag </${m[1]}> does not match <${top}>`, lt);
      i = lt + m[0].length;
      continue;
    }
    if (stack.length === 0 && elements.length > 0) return fail('a second root element', lt);
    // Start tag: name, then attributes, then > or />.
    const nameM = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(lt, lt + 300));
    if (!nameM) return fail('malformed start tag', lt);
    const el: XmlElement = { name: nameM[1]!, line: pos(lt).line, depth: stack.length, attrs: [], comments, text: '', parent: false };
    comments = [];
    if (open.length) open[open.length - 1]!.parent = true;
    let j = lt + nameM[0].length;
    const seen = new Set<string>();
    for (;;) {
      while (j < n && /\s/.test(text[j]!)) j++;
      if (j >= n) return fail(`start tag <${el.name}> is never closed`, lt);
      if (text[j] === '>') {
        stack.push(el.name);
        open.push(el);
        j++;
        break;
      }
      if (text.startsWith('/>', j)) {
        j += 2;
        break;
      }
      const am = /^([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(text.slice(j, j + 200_000));
      if (!am) return fail(`malformed attribute in <${el.name}>`, j);
      const name = am[1]!;
      const raw = am[2] ?? am[3]!;
      if (raw.includes('<')) return fail(`attribute ${name} holds a "<"`, j);
      if (seen.has(name)) return fail(`attribute ${name} appears twice in <${el.name}>`, j);
      seen.add(name);
      el.attrs.push({ name, value: unescapeXml(raw), ...pos(j) });
      j += am[0].length;
    }
    elements.push(el);
    i = j;
  }
  if (stack.length) return fail(`element <${stack[stack.length - 1]}> is never closed`, n);
  if (elements.length === 0) return fail('no XML element', 0);
  return { elements };
}

/**
 * The leaf elements (text only) of a document, each with the names of the elements above it
 * below the root. `index` names an attribute that tells same-named siblings apart (Cisco's
 * <line button="1">): it becomes part of the name, `line[1]`, as the Cisco reader writes it.
 */
export function xmlLeaves(doc: XmlDoc, index?: string): Array<{ path: string[]; el: XmlElement }> {
  const out: Array<{ path: string[]; el: XmlElement }> = [];
  const names: string[] = [];
  for (const el of doc.elements) {
    const idx = index ? el.attrs.find((a) => a.name === index)?.value : undefined;
    names.length = el.depth;
    names.push(idx !== undefined ? `${el.name}[${idx}]` : el.name);
    if (!el.parent && el.depth > 0) out.push({ path: names.slice(1), el });
  }
  return out;
}

/** The name of the first element of an XML text (after the declaration and comments), if any. */
export function rootName(text: string): string | undefined {
  const body = text.slice(0, 8192).replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>/g, '');
  return /<([A-Za-z_][\w.:-]*)/.exec(body)?.[1];
}
