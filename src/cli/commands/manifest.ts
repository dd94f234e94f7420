/** `ccx manifest`: the manifest of the newest (or a given) snapshot. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { type CommonOptions, formatCount, printJson, shortId } from '../render.js';

export function registerManifestCommand(program: Command): void {
  program
    .command('manifest')
    .description('print the manifest of the newest snapshot (or --snapshot ID)')
    .option('--snapshot <id>', 'snapshot id or unique prefix')
    .option('--json', 'print the whole manifest as JSON')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: CommonOptions) => {
      const { manifest } = await import('../../chunking/queries.js');
      const m = await manifest({ store: opts.store, snapshot: opts.snapshot, wait: opts.wait ?? false });
      if (opts.json) {
        printJson(m);
        return;
      }
      const lines = [
        `snapshot ${m.snapshot}`,
        `parent   ${shortId(m.parent)}`,
        `root     ${m.root}`,
        `created  ${m.createdAt}`,
        `hashes   ${m.hashVersion}`,
        `${formatCount(m.stats.files)} files, ${formatCount(m.stats.chunks)} chunks`,
        '',
      ];
      for (const f of m.files) {
        const note = f.status === 'ok' ? '' : `  [${f.status}: ${f.reason ?? ''}]`;
        lines.push(`${f.path}  ${f.language}  ${formatCount(f.chunks.length)} chunks${note}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
