/**
 * Execution records: one run recorded by `ccx run`, one line of `ccx history export`
 * (shared/spec/execution-record.schema.json, copied here as {@link EXECUTION_RECORD_SCHEMA} so
 * that an installed ccx carries it; a test checks the copy against the spec).
 */
import { randomBytes } from 'node:crypto';

/** One recorded run. */
export interface ExecutionRecord {
  /** Unique within the store; ccx makes ids that sort by start time. */
  id: string;
  submission: {
    /** The entry file relative to the chunked root or, where there is none, the command line. */
    entry: string;
    /** sha256 (hex) of the entry file's bytes, or of the command line. */
    hash: string;
    command?: string[];
  };
  /** The snapshot whose chunk ids `chunksUsed` names. */
  snapshot: string;
  /** Ids of the chunks the run executed, sorted. */
  chunksUsed: string[];
  resources: {
    /** Wall time in milliseconds. */
    wallMs: number;
    /** User plus system CPU time of the process tree, in milliseconds. */
    cpuMs: number;
    /** Maximum resident set size in KiB (the largest process of the tree). */
    maxRssKb: number;
  };
  exitCode: number;
  /** ISO 8601 date-time. */
  startedAt: string;
  labels?: Record<string, string>;
}

/** shared/spec/execution-record.schema.json (JSON Schema 2020-12). */
export const EXECUTION_RECORD_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'ccx/execution-record.schema.json',
  title: 'ccx execution record: one line of `ccx history export`, one run recorded by `ccx run`',
  type: 'object',
  required: ['id', 'submission', 'snapshot', 'chunksUsed', 'resources', 'exitCode', 'startedAt'],
  properties: {
    id: {
      type: 'string',
      description: 'unique within the store',
    },
    submission: {
      type: 'object',
      required: ['entry', 'hash'],
      properties: {
        entry: {
          type: 'string',
          description:
            'the entry file (relative to the chunked root) or, where there is none, the command line',
        },
        hash: {
          type: 'string',
          pattern: '^[0-9a-f]{64}$',
          description: "sha256 of the entry file's bytes, or of the command line",
        },
        command: {
          type: 'array',
          items: {
            type: 'string',
          },
        },
      },
    },
    snapshot: {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
      description: 'the snapshot whose chunk ids chunksUsed names',
    },
    chunksUsed: {
      type: 'array',
      items: {
        type: 'string',
      },
      description:
        'ids of the chunks the run executed (a function inside a chunk counts for that chunk; the module chunk of every loaded file counts)',
    },
    resources: {
      type: 'object',
      required: ['wallMs', 'cpuMs', 'maxRssKb'],
      properties: {
        wallMs: {
          type: 'number',
          minimum: 0,
        },
        cpuMs: {
          type: 'number',
          minimum: 0,
        },
        maxRssKb: {
          type: 'integer',
          minimum: 0,
        },
      },
    },
    exitCode: {
      type: 'integer',
    },
    startedAt: {
      type: 'string',
      format: 'date-time',
    },
    labels: {
      type: 'object',
      additionalProperties: {
        type: 'string',
      },
    },
  },
} as const;

/** A new record id: start time in base 36 (so ids sort by time), then 8 random hex digits. */
export function newRecordId(startedMs: number): string {
  return `${Math.floor(startedMs).toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

let validator: ((value: unknown) => string | undefined) | undefined;

/**
 * Checks a value against the execution record schema (ajv, with formats).
 * @returns undefined when valid, else what is wrong, for a person.
 */
export async function validateRecord(value: unknown): Promise<string | undefined> {
  if (validator === undefined) {
    // CommonJS modules: their `default` export is the namespace, which holds `default`.
    const Ajv2020 = (await import('ajv/dist/2020.js')).default.default;
    const addFormats = (await import('ajv-formats')).default.default;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const check = ajv.compile(EXECUTION_RECORD_SCHEMA);
    validator = (v) => (check(v) ? undefined : ajv.errorsText(check.errors, { dataVar: 'record' }));
  }
  return validator(value);
}
