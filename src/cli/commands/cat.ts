/** `ccx cat PATH`: a file re-assembled from the store, byte for byte. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import type { CommonOptions } from '../render.js';

export function registerCatCommand(program: Command): void {
  program
    .command('cat')
    .description("print a file of a snapshot, re-assembled from the store's chunks byte for byte")
    .argument('<path>', "path relative to the snapshot's root")
    .option('--snapshot <id>', 'snapshot id or unique prefix')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (path: string, opts: CommonOptions) => {
      const { cat } = await import('../../chunking/queries.js');
      const bytes = await cat({ path, store: opts.store, snapshot: opts.snapshot, wait: opts.wait ?? false });
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())),
      );
    });
}
