/**
 * The JSON schemas of `ccx gen`: shared/spec/gen-spec.schema.json (the request) and
 * shared/spec/gen-result.schema.json (what `ccx gen --json` prints), copied here so that an
 * installed ccx carries them; a test checks each copy against the spec.
 */

/** shared/spec/gen-spec.schema.json (JSON Schema 2020-12). */
export const GEN_SPEC_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'ccx/gen-spec.schema.json',
  title: 'ccx gen request: the function to generate',
  type: 'object',
  required: ['function_name', 'language', 'ast'],
  properties: {
    request_id: {
      type: 'string',
    },
    function_name: {
      type: 'string',
      minLength: 1,
    },
    language: {
      enum: ['python', 'typescript', 'javascript'],
    },
    description: {
      type: 'string',
      description: 'what the function does, in prose',
    },
    ast: {
      type: 'object',
      required: ['name', 'parameters'],
      properties: {
        name: {
          type: 'string',
        },
        parameters: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: {
                type: 'string',
              },
              type: {
                type: 'string',
              },
              default: {},
            },
          },
        },
        return_type: {
          type: 'string',
        },
      },
    },
    constraints: {
      type: 'array',
      items: {
        type: 'string',
      },
    },
    examples: {
      type: 'array',
      items: {
        type: 'object',
        required: ['input', 'output'],
        properties: {
          input: {
            type: 'object',
            description: 'argument values by parameter name',
          },
          output: {
            description: 'the expected return value, compared as JSON',
          },
        },
      },
    },
  },
} as const;

/** shared/spec/gen-result.schema.json (JSON Schema 2020-12). */
export const GEN_RESULT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'ccx/gen-result.schema.json',
  title: 'ccx gen result (what `ccx gen --json` prints)',
  type: 'object',
  required: ['status', 'result'],
  properties: {
    request_id: {
      type: 'string',
    },
    status: {
      enum: ['success', 'unverified', 'failure'],
      description:
        'success: the chosen candidate passes every example; unverified: no examples to run or none passed; failure: nothing usable was produced',
    },
    error: {
      type: 'string',
    },
    result: {
      type: 'object',
      required: ['program_ast', 'confidence_score', 'time_taken', 'strategy', 'candidates'],
      properties: {
        program_ast: {
          type: 'object',
          required: ['type', 'name', 'parameters', 'code'],
          properties: {
            type: {
              const: 'function',
            },
            name: {
              type: 'string',
            },
            parameters: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name'],
              },
            },
            return_type: {
              type: 'string',
            },
            code: {
              type: 'string',
            },
          },
        },
        confidence_score: {
          type: 'number',
          minimum: 0,
          maximum: 1,
        },
        time_taken: {
          type: 'number',
          minimum: 0,
          description: 'seconds',
        },
        strategy: {
          type: 'string',
          description: 'the technique that produced the chosen candidate',
        },
        candidates: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'strategy', 'passed', 'total'],
            properties: {
              code: {
                type: 'string',
              },
              strategy: {
                type: 'string',
              },
              logprob: {
                type: 'number',
              },
              passed: {
                type: 'integer',
                minimum: 0,
              },
              total: {
                type: 'integer',
                minimum: 0,
              },
              errors: {
                type: 'array',
                items: {
                  type: 'string',
                },
              },
            },
          },
        },
        retrieved: {
          type: 'array',
          items: {
            type: 'string',
          },
          description: 'ids of the chunks put in the prompt, or found by retrieve',
        },
        model: {
          type: ['object', 'null'],
          description: 'id, sha256 of the ONNX file, dtype, device; null for retrieve',
        },
        seed: {
          type: 'integer',
        },
      },
    },
  },
} as const;
