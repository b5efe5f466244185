export { decodeScript, decodeWindows1252 } from './decode.js';
export {
  parseAvayaScript,
  splitLines,
  type ParsedScript,
  type Statement,
  type SetStatement,
  type IfStatement,
  type GotoStatement,
  type GetStatement,
  type LabelStatement,
  type QuoteShape,
} from './parse.js';
export { lintAvayaScript, type LintOptions } from './lint.js';
export { extractCatalog, loadCatalogText } from './catalog.js';
export { DEFAULT_SECRET_PATTERNS, REDACTED, RESOURCE_PARAMETERS, isSecretName } from './values.js';
