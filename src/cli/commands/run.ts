/** `ccx run [--label KEY=VALUE]... -- COMMAND [ARGS...]`: options -> run() -> the command's exit status. */
import { type Command, InvalidArgumentError } from 'commander';
import { storeOption, waitOption } from '../program.js';

interface RunCliOptions {
  label?: Record<string, string>;
  store?: string;
  wait?: number | true;
  quiet?: boolean;
}

function parseLabel(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected KEY=VALUE');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run COMMAND in the chunked root and record which chunks it executed (Node.js and Python\n' +
        'processes, children included); exits with the command status',
    )
    .argument('<command>', 'the program to run')
    .argument('[args...]', 'its arguments (put -- before COMMAND so ccx leaves them alone)')
    .option('--label <key=value>', 'a label kept with the record (repeatable)', parseLabel)
    .option('--quiet', 'say nothing, not even warnings')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (command: string, args: string[], opts: RunCliOptions) => {
      const { run } = await import('../../exec/run.js');
      // The command gets Ctrl-C from the terminal itself; ccx waits for it and records the run.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.removeAllListeners(signal);
        process.on(signal, () => undefined);
      }
      const result = await run({
        command,
        args,
        labels: opts.label,
        store: opts.store,
        wait: opts.wait ?? false,
      });
      if (opts.quiet !== true) for (const w of result.warnings) process.stderr.write(`ccx: ${w}\n`);
      process.exitCode = result.record.exitCode;
    });
}
