// Turn a raw request target into the file name a phone asked for, or refuse it.
// Phones ask for plain names; anything that looks like traversal or smuggling is a 400
// before it reaches routing or the filesystem.

export type PathResult = { ok: true; path: string } | { ok: false; status: 400 | 414 };

/** No phone file name comes close; longer targets are refused before any work. */
export const MAX_PATH = 1024;

export function decodeRequestPath(rawUrl: string): PathResult {
  const q = rawUrl.indexOf('?');
  const raw = q === -1 ? rawUrl : rawUrl.slice(0, q);
  if (raw.length > MAX_PATH) return { ok: false, status: 414 };
  if (!raw.startsWith('/')) return { ok: false, status: 400 };
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { ok: false, status: 400 };
  }
  // NUL, backslashes (Windows separators) and control bytes never belong in a phone file name.
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) return { ok: false, status: 400 };
  const segments = decoded.split('/').slice(1);
  if (segments.some((s) => s === '..' || s === '.')) return { ok: false, status: 400 };
  // `//x` and a trailing `/` name no file.
  if (segments.some((s) => s === '') && decoded !== '/') return { ok: false, status: 400 };
  return { ok: true, path: segments.join('/') };
}
