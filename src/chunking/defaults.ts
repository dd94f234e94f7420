/** Defaults shared by the core and the CLI; a leaf module so `ccx --help` loads nothing heavy. */

/** Default `--max-file-bytes`: 2 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;
