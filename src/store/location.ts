/** Where a store lives (a module of its own, so that light commands need not load the pipeline). */
import path from 'node:path';

/** Resolves the store path for a root: `--store`, then `CCX_STORE`, then `<root>/.ccx`. */
export function resolveStorePath(root: string, store: string | undefined): string {
  return path.resolve(store ?? process.env.CCX_STORE ?? path.join(root, '.ccx'));
}
