/** `ccx diff A B`: options -> diff() -> text, a Markdown table, or JSON. */
import { type Command, Option } from 'commander';
import type { ChangeKind, ChunkChange, DiffResult } from '../../change/diff.js';
import { storeOption, waitOption } from '../program.js';
import { printJson, shortId } from '../render.js';

interface DiffCliOptions {
  store?: string;
  json?: boolean;
  format?: 'text' | 'md';
  all?: boolean;
  dir?: string;
  wait?: number | true;
}

const KINDS: ChangeKind[] = ['added', 'removed', 'modified', 'renamed', 'moved', 'reformatted', 'unchanged'];

export function registerDiffCommand(program: Command): void {
  program
    .command('diff')
    .description(
      'compare two snapshots chunk by chunk: functional changes (modified, added, removed) apart from\n' +
        'renames, moves and reformatting',
    )
    .argument('<a>', 'snapshot id or unique prefix, directory, or git revision')
    .argument('<b>', 'the same, for the other side')
    .addOption(storeOption('./.ccx'))
    .option('--json', 'print {from, to, changes, summary} as JSON')
    .addOption(
      new Option('--format <format>', 'text, or md (a table for a pull-request comment)')
        .choices(['text', 'md'])
        .default('text'),
    )
    .option('--all', 'also list unchanged chunks')
    .option('-C, --dir <dir>', 'directory inside the git repository that revisions name', '.')
    .addOption(waitOption())
    .action(async (a: string, b: string, opts: DiffCliOptions) => {
      const { diff } = await import('../../change/diff.js');
      const result = await diff({
        from: a,
        to: b,
        store: opts.store,
        dir: opts.dir,
        all: opts.all === true,
        wait: opts.wait ?? false,
      });
      if (opts.json) printJson(result);
      else process.stdout.write(opts.format === 'md' ? renderMarkdown(result) : renderText(result));
    });
}

function describe(change: ChunkChange): string {
  const iface = change.interfaceChanged ? ' (interface changed)' : '';
  if (change.from !== null && change.to !== null && change.from !== change.to) {
    return `${change.from} -> ${change.to}${iface}`;
  }
  return `${change.to ?? change.from}${iface}`;
}

function summaryLine(result: DiffResult): string {
  const parts = KINDS.filter((k) => result.summary[k] > 0).map((k) => `${result.summary[k]} ${k}`);
  return `${shortId(result.from)}..${shortId(result.to)}: ${parts.length === 0 ? 'no chunks' : parts.join(', ')}`;
}

/** One line per change (`kind  id`), then the summary. */
export function renderText(result: DiffResult): string {
  const width = Math.max(0, ...result.changes.map((c) => c.kind.length));
  const lines = result.changes.map((c) => `${c.kind.padEnd(width)}  ${describe(c)}`);
  lines.push(summaryLine(result));
  return `${lines.join('\n')}\n`;
}

function cell(text: string): string {
  return `\`${text.replaceAll('|', '\\|').replaceAll('`', "'")}\``;
}

/** A Markdown summary and table of the changes, for a pull-request comment. */
export function renderMarkdown(result: DiffResult): string {
  const counts = KINDS.map((k) => `${result.summary[k]} ${k}`).join(' · ');
  const out = [`**ccx diff** \`${shortId(result.from)}\`..\`${shortId(result.to)}\`: ${counts}`, ''];
  if (result.changes.length > 0) {
    out.push('| change | chunk | was | interface changed |', '| --- | --- | --- | --- |');
    for (const c of result.changes) {
      const was = c.from !== null && c.to !== null && c.from !== c.to ? cell(c.from) : '';
      out.push(`| ${c.kind} | ${cell(c.to ?? c.from!)} | ${was} | ${c.interfaceChanged ? 'yes' : ''} |`);
    }
  }
  return `${out.join('\n')}\n`;
}
