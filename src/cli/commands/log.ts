/** `ccx log`: snapshots, newest first. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { type CommonOptions, formatCount, printJson, shortId } from '../render.js';

export function registerLogCommand(program: Command): void {
  program
    .command('log')
    .description('list snapshots, newest first: id, time, root, counts')
    .option('--json', 'print as JSON')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: CommonOptions) => {
      const { log } = await import('../../chunking/queries.js');
      const entries = await log({ store: opts.store, wait: opts.wait ?? false });
      if (opts.json) {
        printJson(entries);
        return;
      }
      if (entries.length === 0) {
        process.stdout.write('no snapshots yet\n');
        return;
      }
      for (const e of entries) {
        const problems =
          e.parseErrors + e.skipped > 0 ? `, ${e.parseErrors} parse errors, ${e.skipped} skipped` : '';
        process.stdout.write(
          `${shortId(e.id)}  ${e.createdAt}  ${e.root}  ${formatCount(e.files)} files, ${formatCount(e.chunks)} chunks${problems}\n`,
        );
      }
    });
}
