/**
 * Errors thrown by the ccx core. Every error a person may see is a {@link CcxError} with a stable
 * string `code`, a message that says what happened, and a `hint` that says what to do. The CLI
 * (src/cli/main.ts) is the one place that maps them to exit codes (docs/cli.md).
 */
export class CcxError extends Error {
  /** Stable machine-readable code, e.g. `'CCX_STORE_LOCKED'`. */
  readonly code: string;
  /** One line on what the user can do about it, or undefined. */
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad command-line usage or configuration (exit 2). */
export class UsageError extends CcxError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_USAGE', message, options);
  }
}

/** The store is open in another process (exit 2, or wait with `--wait`). */
export class StoreLockedError extends CcxError {
  constructor(storePath: string, cause?: unknown) {
    super('CCX_STORE_LOCKED', `the store ${storePath} is in use by another ccx process`, {
      hint: 'wait for the other process to finish, or pass --wait to wait for it',
      cause,
    });
  }
}

/** The store is missing, unreadable or not a ccx store (exit 2). */
export class StoreError extends CcxError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_STORE', message, options);
  }
}

/** A snapshot, chunk or file asked for does not exist (exit 2). */
export class NotFoundError extends CcxError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_NOT_FOUND', message, options);
  }
}
