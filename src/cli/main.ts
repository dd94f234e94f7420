/**
 * Entry point of the `ccx` binary: parses argv and maps errors to exit codes (docs/cli.md):
 * 0 done; 1 a negative result the command exists to report; 2 usage, configuration or runtime
 * error; 128+signal when interrupted.
 */
import { CommanderError } from 'commander';
import { CcxError } from '../errors.js';
import { createProgram } from './program.js';

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };
for (const [signal, number] of Object.entries(SIGNALS)) {
  process.once(signal, () => {
    process.stderr.write(`\nccx: interrupted by ${signal}; the store keeps its last complete snapshot\n`);
    process.exit(128 + number);
  });
}

// A reader that stops early (`ccx log | head`) closes the pipe: that ends the output, not in error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; anything commander rejects is a usage error.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CcxError) {
      process.stderr.write(`error: ${error.message}\n`);
      if (error.hint !== undefined) process.stderr.write(`hint: ${error.hint}\n`);
      if (debug)
        process.stderr.write(`${error.stack ?? ''}\n${error.cause ? `cause: ${String(error.cause)}\n` : ''}`);
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    process.stderr.write(
      debug && error instanceof Error
        ? `${error.stack}\n`
        : 'hint: this is a bug in ccx; run again with --debug for details\n',
    );
    return 2;
  }
}

const code = await main(process.argv);
process.exitCode = code;
