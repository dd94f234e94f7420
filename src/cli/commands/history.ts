/** `ccx history ls | show ID | stats | export [--since TIME] | import FILE.jsonl`. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { formatCount, printJson } from '../render.js';

interface HistoryCliOptions {
  store?: string;
  wait?: number | true;
  json?: boolean;
  since?: string;
}

export function registerHistoryCommand(program: Command): void {
  const history = program
    .command('history')
    .description('the execution records of the store (ccx run, imports)');
  const common = (cmd: Command) => cmd.addOption(storeOption('./.ccx')).addOption(waitOption());
  const load = () => import('../../history/history.js');

  common(history.command('ls').description('records, oldest first').option('--json', 'print as JSON')).action(
    async (opts: HistoryCliOptions) => {
      const records = await (await load()).listRecords({ store: opts.store, wait: opts.wait ?? false });
      if (opts.json) {
        printJson(records);
        return;
      }
      for (const r of records) {
        process.stdout.write(
          `${r.id}  ${r.startedAt}  exit ${r.exitCode}  ${formatCount(r.chunksUsed.length)} chunks  ${Math.round(r.resources.wallMs)} ms  ${r.submission.entry}\n`,
        );
      }
    },
  );

  common(
    history
      .command('show')
      .description('one record')
      .argument('<id>', 'record id or unique prefix')
      .option('--json', 'print as JSON'),
  ).action(async (id: string, opts: HistoryCliOptions) => {
    const r = await (await load()).showRecord(id, { store: opts.store, wait: opts.wait ?? false });
    if (opts.json) {
      printJson(r);
      return;
    }
    const out = [
      `id:        ${r.id}`,
      `started:   ${r.startedAt}`,
      `entry:     ${r.submission.entry} (${r.submission.hash.slice(0, 12)})`,
      `command:   ${(r.submission.command ?? []).join(' ')}`,
      `snapshot:  ${r.snapshot.slice(0, 12)}`,
      `exit:      ${r.exitCode}`,
      `resources: ${r.resources.wallMs} ms wall, ${r.resources.cpuMs} ms CPU, ${formatCount(r.resources.maxRssKb)} KiB max RSS`,
    ];
    if (r.labels !== undefined)
      out.push(
        `labels:    ${Object.entries(r.labels)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
      );
    out.push(`chunks (${r.chunksUsed.length}):`, ...r.chunksUsed.map((c) => `  ${c}`));
    process.stdout.write(`${out.join('\n')}\n`);
  });

  common(
    history.command('stats').description('counts over the history').option('--json', 'print as JSON'),
  ).action(async (opts: HistoryCliOptions) => {
    const s = await (await load()).historyStats({ store: opts.store, wait: opts.wait ?? false });
    if (opts.json) {
      printJson(s);
      return;
    }
    const out = [
      `${formatCount(s.records)} records of ${formatCount(s.submissions)} submissions, ${s.failed} failed`,
      `${formatCount(s.chunks)} distinct chunks used, ${s.meanChunks} per record`,
      `from ${s.from ?? '-'} to ${s.to ?? '-'}`,
    ];
    if (s.topChunks.length > 0) out.push('most used:', ...s.topChunks.map((c) => `  ${c.records}  ${c.id}`));
    process.stdout.write(`${out.join('\n')}\n`);
  });

  common(
    history
      .command('export')
      .description('records as JSON Lines (shared/spec/execution-record.schema.json) on stdout')
      .option('--since <time>', 'only records started at or after this ISO 8601 date-time'),
  ).action(async (opts: HistoryCliOptions) => {
    process.stdout.write(
      await (await load()).exportRecords({ store: opts.store, wait: opts.wait ?? false, since: opts.since }),
    );
  });

  common(
    history
      .command('import')
      .description('import a JSON Lines file of records; bad lines are listed and skipped (exit 1)')
      .argument('<file>', 'JSON Lines file')
      .option('--json', 'print {imported, unchanged, rejected} as JSON'),
  ).action(async (file: string, opts: HistoryCliOptions) => {
    const r = await (await load()).importRecords(file, { store: opts.store, wait: opts.wait ?? false });
    if (opts.json) printJson(r);
    else {
      for (const bad of r.rejected) process.stderr.write(`line ${bad.line}: ${bad.reason}\n`);
      process.stdout.write(
        `imported ${r.imported}, already present ${r.unchanged}, rejected ${r.rejected.length}\n`,
      );
    }
    if (r.rejected.length > 0) process.exitCode = 1;
  });
}
