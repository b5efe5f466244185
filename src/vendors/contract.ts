// The contract every vendor folder meets: src/vendors/<id>/index.ts exports `vendor: Vendor`.
// A vendor's data (manifest, templates, schemas) lives in templates/<id>/ and schemas/<id>/;
// this is its code. Shared code never names a vendor: it asks the registry (registry.ts),
// which finds every folder by reading the directory. docs/vendors.md walks through it.

import type { HelperDelegate } from 'handlebars';
import type { Diagnostic } from '../check/diagnostics.js';

/** Where a vendor's manifest lives, relative to templates/ (shipped or the root's override). */
export const MANIFEST_FILE = 'vendor.yaml';

/** Formats every vendor may name in its manifest, checked by shared code: XML against an XSD, text not at all. */
export const BUILTIN_FORMATS = ['xml', 'text'] as const;

/** Thrown by a helper when a value cannot be written safely in the target format. */
export class RenderValueError extends Error {
  /** The parameter being written, so the error can be traced to the profile line that set it. */
  key?: string;
}

/** Writes one `{{set}}` parameter of a `{{#params "<format>"}}` block as one line of the file. */
export type ParamWriter = (key: unknown, value: unknown) => string;

/** What a format check may consult, beyond the file's text. */
export interface FormatContext {
  /** Parameter names the vendor's phones know (its catalog, see `Vendor.catalog`), when loaded. */
  catalog?: ReadonlySet<string>;
  /** Does a file of this name exist to be fetched (a resource, firmware image or route)? */
  resourceExists?: (name: string) => boolean;
  /**
   * The file is one device's own, served only to that device: credentials in it are its
   * purpose, so checks that warn about secrets every phone can read stay quiet.
   */
  perDevice?: boolean;
}

/** A file format of the vendor's own (the manifest's `format:`), beyond the built-in ones. */
export interface OutputFormat {
  /** Findings for one rendered file; `file` names it in every location. */
  check(text: string, file: string, ctx: FormatContext): Diagnostic[];
  /**
   * The parameter one trimmed line sets, if it is such a line: `check` uses it to trace a
   * finding to the profile value that produced it. `value` is absent when the line names a
   * parameter but carries no value.
   */
  lineParam(line: string): { name: string; value?: string } | undefined;
}

/** Reads a rendered file back as the phone would: parameter name -> value. */
export type SettingsReader = (text: string, format: string) => Map<string, string> | Promise<Map<string, string>>;

/**
 * How values reach the vendor's files. `lineValue` names what the phone reads as a line's
 * display name; `carries` says which values the format can hold at all: any other value must
 * be refused at render (RenderValueError), never written half-escaped. The contract suite
 * renders hostile values and reads them back with `read`.
 */
export interface Escaping {
  read: SettingsReader;
  carries(value: string): boolean;
  /** The parameter that holds `settings.lines[0].display_name` in the device's files. */
  displayNameParam: string;
}

/** A file a phone writes back with HTTP PUT as `<mac>-<kind>`. */
export interface UploadKindSpec {
  /** `log`: appended per day, never served back. `file`: replaced whole, served back on GET. */
  storage: 'log' | 'file';
  /** True for files whose settings the phone applies over ours (`deskset explain` lists them). */
  override: boolean;
  contentType: string;
  what: string;
}

/** A factory default; `user: undefined` matches any user name (a login that is a password alone). */
export interface DefaultCredential {
  user: string | undefined;
  password: string;
  what: string;
}

/**
 * `$NAME` variables the vendor's phones expand themselves in files they read (Avaya's
 * `$MACADDR`). In a resource file's NAME they are device variables like deskset's own
 * `{{mac}}`; in its TEXT they are expanded by deskset unless the phone will do it.
 */
export interface PhoneVariables {
  /** Variable name (without `$`) -> the device field it stands for. */
  names: Readonly<Record<string, 'mac' | 'model' | 'model4'>>;
  /** True when the phone expands the variables in this file itself, so deskset leaves them. */
  expandsItself(file: string, text: string): boolean;
}

/** A list of known parameter names in schemas/<id>/<file>; the root's copy of the file adds names. */
export interface CatalogSpec {
  file: string;
  parse(text: string): Set<string>;
}

/** Hand-written files under resources/ that the vendor's checker reads (Avaya scripts). */
export interface ResourceCheck {
  matches(name: string): boolean;
  check(bytes: Uint8Array, file: string, ctx: FormatContext): Diagnostic[];
}

export interface Vendor {
  /** The folder name under src/vendors/, templates/ and schemas/, and the manifest's `vendor:`. */
  readonly id: string;
  /** Handlebars helpers its templates call (escaping, line formats, its time-zone forms). */
  readonly helpers?: Readonly<Record<string, HelperDelegate>>;
  /** Line writers for `{{#params "<name>"}}` blocks. */
  readonly paramFormats?: Readonly<Record<string, ParamWriter>>;
  /** Formats its manifest's files may name, each with its checker. */
  readonly formats?: Readonly<Record<string, OutputFormat>>;
  readonly escaping: Escaping;
  /** Profile key `settings.<id>.<key>`: the vendor's escape hatch, written verbatim by its templates. */
  readonly profileKey: string;
  readonly catalog?: CatalogSpec;
  readonly resourceCheck?: ResourceCheck;
  readonly uploadKinds?: Readonly<Record<string, UploadKindSpec>>;
  readonly defaultCredentials?: readonly DefaultCredential[];
  readonly phoneVariables?: PhoneVariables;
  /**
   * A request for one of its devices, for the start-up banner, when the device's own file
   * name is not how its phones ask (a file named by no MAC, the phone known by its User-Agent).
   */
  readonly exampleRequest?: (device: { mac: string; model: string }) => { path: string; userAgent?: string };
  /** Model names its schemas declare (Poly's master config); every manifest model must be one. */
  readonly schemaModels?: readonly string[];
}

/** A vendor folder that breaks the contract, or two that collide: deskset does not start. */
export class VendorContractError extends Error {
  constructor(
    readonly vendor: string,
    message: string,
  ) {
    super(`vendor ${vendor}: ${message}`);
  }
}
