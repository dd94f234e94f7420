/** `ccx affected [DIR]`: options -> affected() -> test paths one per line, or JSON. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { printJson } from '../render.js';

interface AffectedCliOptions {
  base?: string;
  head?: string;
  tests?: string[];
  json?: boolean;
  failIfAffected?: boolean;
  conservative?: boolean;
  precise?: boolean;
  store?: string;
  wait?: number | true;
}

export function registerAffectedCommand(program: Command): void {
  program
    .command('affected')
    .description(
      'the chunks a change reaches from the base revision to the head, and the test files to run\n' +
        '(one per line, ready for xargs)',
    )
    .argument('[dir]', 'directory inside a git repository', '.')
    .option('--base <rev>', 'base revision', 'HEAD')
    .option('--head <rev>', 'head revision (default: the working tree, uncommitted changes included)')
    .option(
      '--tests <glob>',
      'test files, relative to DIR (repeatable; replaces the defaults **/*.test.*, **/*.spec.*,\n' +
        '**/test_*.py, **/*_test.py, **/*_test.go, test/**, tests/**)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--json', 'print {base, head, changed, affected, tests, reformattedOnly, unresolved} as JSON')
    .option('--fail-if-affected', 'exit 1 when anything is affected')
    .option(
      '--conservative',
      'also select every test file that holds or reaches a reference static analysis cannot follow',
    )
    .option(
      '--precise',
      'TypeScript: add the edges the type checker finds (member calls on class instances, type\n' +
        'references, re-exports), one ts-morph project per tsconfig.json',
    )
    .addOption(storeOption('DIR/.ccx'))
    .addOption(waitOption())
    .action(async (dir: string, opts: AffectedCliOptions) => {
      const { affected } = await import('../../change/affected.js');
      const result = await affected({
        dir,
        base: opts.base,
        head: opts.head,
        tests: opts.tests,
        conservative: opts.conservative === true,
        precise: opts.precise === true,
        store: opts.store,
        wait: opts.wait ?? false,
      });
      if (opts.json) printJson(result);
      else for (const t of result.tests) process.stdout.write(`${t}\n`);
      if (opts.failIfAffected && result.affected.length > 0) process.exitCode = 1;
    });
}
