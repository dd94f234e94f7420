/** `ccx verify`: checks the whole store; exit 1 with what is wrong. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { type CommonOptions, formatCount, printJson } from '../render.js';

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description("check the store: every snapshot's files and chunks present, content hashes recomputed")
    .option('--json', 'print as JSON')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: CommonOptions) => {
      const { verify } = await import('../../chunking/queries.js');
      const result = await verify({ store: opts.store, wait: opts.wait ?? false });
      if (opts.json) printJson(result);
      else {
        const c = result.counts;
        const counts = `${formatCount(c.snapshots)} snapshots, ${formatCount(c.files)} files, ${formatCount(c.blobs)} blobs, ${formatCount(c.chunks)} chunk hashes`;
        if (result.ok) process.stdout.write(`store ok: ${counts}\n`);
        else {
          process.stdout.write(`store has ${result.problems.length} problems (${counts}):\n`);
          for (const p of result.problems) process.stdout.write(`  ${p}\n`);
        }
      }
      if (!result.ok) process.exitCode = 1;
    });
}
