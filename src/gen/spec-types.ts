/**
 * The request `ccx gen --spec` reads: the function to generate. Mirrors
 * shared/spec/gen-spec.schema.json field for field (snake_case names as in the file).
 */

/** One parameter of the function to generate. */
export interface GenParameter {
  name: string;
  /** The type as the spec writes it (`'int'`, `'list[str]'`, `'number'`), free text. */
  type?: string;
  /** Default value (JSON); a parameter with one may be left out of a call. */
  default?: unknown;
}

/** One input/output example; `input` holds argument values by parameter name. */
export interface GenExample {
  input: Record<string, unknown>;
  /** The expected return value, compared as JSON. */
  output: unknown;
}

/** A `ccx gen` request (shared/spec/gen-spec.schema.json). */
export interface GenSpec {
  request_id?: string;
  /** Name the generated function must have. */
  function_name: string;
  language: 'python' | 'typescript' | 'javascript';
  /** What the function does, in prose. */
  description?: string;
  ast: {
    name: string;
    /** In declaration order. */
    parameters: GenParameter[];
    return_type?: string;
  };
  constraints?: string[];
  examples?: GenExample[];
}
