/** `ccx show ID|NAME`: a chunk's code and metadata, or the chunks a name matches. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { type CommonOptions, printJson } from '../render.js';

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description("print a chunk's code and metadata; a name that matches several chunks lists them")
    .argument('<id-or-name>', 'chunk id (path#name), name (f, Class.method) or hash prefix')
    .option('--snapshot <id>', 'snapshot id or unique prefix')
    .option('--json', 'print as JSON')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (query: string, opts: CommonOptions) => {
      const { show } = await import('../../chunking/queries.js');
      const result = await show({
        query,
        store: opts.store,
        snapshot: opts.snapshot,
        wait: opts.wait ?? false,
      });
      if (opts.json) {
        printJson(result);
        return;
      }
      if (result.matches !== undefined) {
        process.stdout.write(`${result.matches.length} chunks match ${JSON.stringify(query)}:\n`);
        for (const c of result.matches)
          process.stdout.write(`  ${c.id}  (${c.kind}, lines ${c.startLine}-${c.endLine})\n`);
        return;
      }
      const c = result.chunk;
      const lines = [
        `id            ${c.id}`,
        `kind          ${c.kind} (${c.language}), ${c.file} lines ${c.startLine}-${c.endLine}, ${c.size} bytes`,
        `hash          ${c.hash}`,
        `interfaceHash ${c.interfaceHash}`,
        `closureHash   ${c.closureHash}`,
        `deps          ${c.deps.length > 0 ? c.deps.join(', ') : '-'}`,
        `externalDeps  ${c.externalDeps.length > 0 ? c.externalDeps.join(', ') : '-'}`,
        `last modified ${c.lastModified}${c.creator === null ? '' : ` by ${c.creator}`}`,
        '',
        c.code,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
