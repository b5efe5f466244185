// The reference XSD engine: Apache Xerces (the JDK's javax.xml.validation) through the
// `xsd-schema-validator` package.
//
// Why keep it next to libxml2: Xerces is the most complete and most conservative XSD 1.0
// implementation around; test/xsd-agreement.test.ts checks that libxml2 reaches the
// same verdicts on our schemas, which is what lets us trust the fast engine.
// Why it is not the default: the package starts one JVM per document (~200 ms), and
// nothing can be cached between calls. Fine for an admin's one-off check, not for
// 10,000 devices.
//
// Requirements: `java` on PATH or under JAVA_HOME, and the package's small Java helper
// compiled. Its postinstall compiles the helper with `javac`, but npm does not always run
// it (npm 11 skipped it here); the package then compiles lazily on first use, and we call
// its `setup()` once up front so that concurrent first calls do not race two `javac`
// processes writing the same .class file.
//
// Documents go to the JVM as temporary files, not through stdin (which the package also
// supports): the package writes stdin without an error handler, so when the JVM exits
// before reading all of it (a schema that fails to compile, with a document larger than
// the 64 KB pipe buffer) Node raises an unhandled EPIPE and the whole process dies.

import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setup, validateXML } from 'xsd-schema-validator';
import { XsdSchemaError, type XsdEngine, type XsdIssue, type XsdResult } from './types.js';

export interface XercesEngineOptions {
  /**
   * Most JVMs running at once. Callers may fire validations with Promise.all; without a
   * cap a corpus of 500 files would start 500 JVMs. Default: the machine's parallelism.
   */
  maxConcurrency?: number;
}

/** The shape `xsd-schema-validator` rejects with when the document is invalid. */
interface ValidatorFailure {
  result: string;
  messages: string[];
}

function isValidatorFailure(err: unknown): err is Error & ValidatorFailure {
  return (
    err instanceof Error &&
    typeof (err as Partial<ValidatorFailure>).result === 'string' &&
    Array.isArray((err as Partial<ValidatorFailure>).messages)
  );
}

// The Java helper prints `[error] <message> (<line>:<col>)` per SAX error, and a final
// `[fatal] <message>` without position when something throws. The package strips newlines
// from each stderr *chunk*, so two messages arriving in one chunk come out glued
// together: split them again on the `[level] ` prefix.
const ENTRY = /\[(warning|error|fatal)\] /g;
const POSITION = /\s*\((-?\d+):(-?\d+)\)\s*$/;

/** An issue plus whether Xerces gave it a position (used to tell schema from document failures). */
export interface ParsedXercesMessage extends XsdIssue {
  located: boolean;
}

export function parseXercesMessages(messages: readonly string[]): ParsedXercesMessage[] {
  const out: ParsedXercesMessage[] = [];
  for (const chunk of messages) {
    const starts = [...chunk.matchAll(ENTRY)].map((m) => m.index);
    if (starts.length === 0) {
      if (chunk.trim()) out.push({ line: 0, col: 0, message: chunk.trim(), located: false });
      continue;
    }
    for (let i = 0; i < starts.length; i++) {
      const entry = chunk.slice(starts[i], starts[i + 1]).replace(/^\[\w+\] /, '');
      const pos = POSITION.exec(entry);
      if (pos) {
        const line = Number(pos[1]);
        const col = Number(pos[2]);
        // Xerces uses -1 for "unknown"; our contract uses 0.
        out.push({
          line: line > 0 ? line : 0,
          col: col > 0 ? col : 0,
          message: entry.slice(0, pos.index).trim(),
          located: true,
        });
      } else {
        out.push({ line: 0, col: 0, message: entry.trim(), located: false });
      }
    }
  }
  return out;
}

/** A counting semaphore, so a burst of validations queues instead of forking a JVM each. */
class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

let setupOnce: Promise<void> | undefined;
/** Compile the package's Java helper if it is missing; once per process. */
function ensureHelper(): Promise<void> {
  setupOnce ??= setup().catch((err: unknown) => {
    setupOnce = undefined; // let a later call retry (e.g. after the JDK was installed)
    throw err;
  });
  return setupOnce;
}

export class XercesXsdEngine implements XsdEngine {
  readonly name = 'xerces';
  private readonly gate: Gate;
  private dir: Promise<string> | undefined;
  private seq = 0;

  constructor(options: XercesEngineOptions = {}) {
    this.gate = new Gate(Math.max(1, options.maxConcurrency ?? os.availableParallelism()));
  }

  async validate(xml: string, schemaPath: string): Promise<XsdResult> {
    const absPath = path.resolve(schemaPath);
    // Checked here, cheaply, because the Java side reports a missing schema the same way
    // as any other fatal error, and it would cost a JVM start to find out.
    try {
      await access(absPath);
    } catch (err) {
      throw new XsdSchemaError(absPath, [{ line: 0, col: 0, message: (err as Error).message }]);
    }
    await ensureHelper();

    return this.gate.run(async () => {
      const docPath = path.join(await this.tempDir(), `doc-${++this.seq}.xml`);
      // UTF-8 bytes, like libxml2 gets; see the encoding note in libxml2.ts.
      await writeFile(docPath, xml, 'utf8');
      try {
        // Both paths absolute: the helper opens them as java.io.File relative to the JVM's
        // cwd. xs:include is resolved relative to the schema file by Xerces itself.
        await validateXML({ file: docPath }, absPath);
        return { valid: true, issues: [] };
      } catch (err) {
        // Anything without the validator's result shape (no java, spawn failure) is an
        // environment problem and must surface loudly, not read as "document invalid".
        if (!isValidatorFailure(err)) throw err;
        return this.toResult(absPath, err);
      } finally {
        await rm(docPath, { force: true });
      }
    });
  }

  /** Remove the engine's temporary directory. The engine stays usable (it makes a new one). */
  async close(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    if (dir) await rm(await dir, { recursive: true, force: true });
  }

  private tempDir(): Promise<string> {
    this.dir ??= mkdtemp(path.join(os.tmpdir(), 'deskset-xerces-'));
    return this.dir;
  }

  private toResult(absPath: string, failure: ValidatorFailure): XsdResult {
    const parsed = parseXercesMessages(failure.messages);
    // The helper only fails a document after printing at least one `[level]` line. A
    // failure with none is the JVM itself failing (e.g. UnsupportedClassVersionError when
    // the helper was compiled by a newer JDK): an environment problem, not a verdict.
    if (parsed.length === 0) {
      throw new Error(
        `xsd-schema-validator's Java helper failed without a diagnostic (status=${failure.result}); ` +
          'check `java -version` and that node_modules/xsd-schema-validator/support/XMLValidator.class matches it',
      );
    }
    const located = parsed.filter((m) => m.located);
    // Every problem in the *document* goes through the helper's SAX ErrorHandler and so
    // carries a position. A fatal result with no positioned message at all means the
    // exception came from compiling the schema.
    if (failure.result === 'FATAL_ERROR' && located.length === 0) {
      throw new XsdSchemaError(absPath, parsed.map(({ line, col, message }) => ({ line, col, message })));
    }
    // For a well-formedness error the helper prints the same message twice: once via the
    // ErrorHandler (with position) and once from the catch block (without). Keep one.
    const seen = new Set(located.map((m) => m.message));
    const issues = parsed
      .filter((m) => m.located || !seen.has(m.message))
      .map(({ line, col, message }) => ({ line, col, message }));
    return { valid: false, issues };
  }
}
