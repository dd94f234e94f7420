/** `ccx env prewarm | ls | show | gc`: options -> core (src/env/environment.ts) -> text or JSON. */
import { type Command, Option } from 'commander';
import { parsePositiveInt, storeOption, waitOption } from '../program.js';
import { formatCount, printJson } from '../render.js';

interface EnvCliOptions {
  store?: string;
  wait?: number | true;
  json?: boolean;
  top?: number;
  budgetMb?: number;
  base?: string;
  check?: boolean;
  keep?: number;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

export function registerEnvCommand(program: Command): void {
  const load = () => import('../../env/environment.js');
  const env = program.command('env').description('execution environments built ahead of requests');

  env
    .command('prewarm')
    .description('build the environments that cover the most expected requests within a budget')
    .addOption(
      new Option('--top <k>', 'at most this many environments').argParser(parsePositiveInt).default(5),
    )
    .addOption(
      new Option('--budget-mb <m>', 'at most this many MiB of environments (files, npm packages included)')
        .argParser(parsePositiveInt)
        .default(256),
    )
    .option('--base <oci:path>', 'an OCI image layout whose layers go underneath (oci:PATH)')
    .option('--no-check', 'do not run the submissions in their environments to check the slices')
    .option('--json', 'print {environments, coveredRequests, totalRequests, bytes, layerBytes, budgetBytes}')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: EnvCliOptions) => {
      const r = await (await load()).prewarm({
        store: opts.store,
        wait: opts.wait ?? false,
        top: opts.top,
        budgetMb: opts.budgetMb,
        base: opts.base?.replace(/^oci:/, ''),
        check: opts.check,
      });
      if (opts.json) {
        printJson(r);
        return;
      }
      for (const e of r.environments) {
        const c = e.check;
        process.stdout.write(
          `${e.id}  profile ${e.profile} v${e.version}  ${formatCount(e.chunks.length)} chunks  ${mib(e.bytes)}  ${e.layers.length} layers  ${
            c.ran === 0
              ? 'not checked'
              : c.ok
                ? `checked (${c.ran} runs match)`
                : `CHECK FAILED (${c.failures.length} of ${c.ran} runs differ)`
          }${c.widened.length > 0 ? `, widened to whole files: ${c.widened.join(', ')}` : ''}${
            c.dataDirs.length > 0 ? `, with every file of ${c.dataDirs.map((d) => `${d}/`).join(', ')}` : ''
          }\n`,
        );
        for (const f of c.failures) process.stderr.write(`ccx: ${e.id}: ${f.split('\n')[0]}\n`);
      }
      process.stdout.write(
        `${formatCount(r.environments.length)} environments cover ${r.coveredRequests} of ${r.totalRequests} recorded requests; ${mib(r.bytes)} of files, ${mib(r.layerBytes)} of distinct layers\n`,
      );
    });

  env
    .command('ls')
    .description('the environments: id, profile, version, chunks, bytes, built, hits')
    .option('--json', 'print [{id, profile, version, bytes, builtAt, hits, paths}]')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: EnvCliOptions) => {
      const core = await load();
      const all = await core.listEnvironments({ store: opts.store, wait: opts.wait ?? false });
      if (opts.json) {
        printJson(all.map((e) => core.summarize(e)));
        return;
      }
      for (const e of all)
        process.stdout.write(
          `${e.id}  ${e.profile}  v${e.version}  ${formatCount(e.chunks.length)} chunks  ${mib(e.bytes)}  ${e.builtAt}  ${e.hits} hits\n`,
        );
    });

  env
    .command('show')
    .description('one environment: what it holds and where its outputs are')
    .argument('<id>', 'environment id or unique prefix')
    .option('--json', 'print {id, profile, version, chunks, bytes, paths: {dir, oci, dockerfile, nix}}')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (id: string, opts: EnvCliOptions) => {
      const core = await load();
      const e = await core.showEnvironment(id, { store: opts.store, wait: opts.wait ?? false });
      if (opts.json) {
        const { builtAt: _b, hits: _h, ...out } = core.summarize(e, true);
        printJson(out);
        return;
      }
      const lines = [
        `environment ${e.id} (profile ${e.profile}, version ${e.version})`,
        `built ${e.builtAt} from snapshot ${e.snapshot.slice(0, 12)}; ${e.hits} hits`,
        `${formatCount(e.chunks.length)} chunks, ${mib(e.bytes)}, ${e.layers.length} layers (manifest ${e.manifestDigest})`,
        `runtime: ${
          Object.entries(e.runtime)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none'
        }; limits from the history p95: ${e.limits.wallMs} ms, ${e.limits.maxRssKb} KiB`,
        `submissions: ${e.submissions.map((s) => `${s.entry} (${s.weight} runs)`).join(', ')}`,
        `npm packages: ${e.externals.npm.join(', ') || 'none'}${e.externals.missing.length > 0 ? `; not found: ${e.externals.missing.join(', ')}` : ''}`,
        ...(e.loadedAtRunTime?.length
          ? [`loaded from the store at run time: ${e.loadedAtRunTime.join(', ')}`]
          : []),
        `check: ${e.check.ran === 0 ? 'not run' : e.check.ok ? `${e.check.ran} runs match the root` : `FAILED: ${e.check.failures.join('; ')}`}`,
        `dir ${e.paths.dir}`,
        `oci ${e.paths.oci}`,
        `dockerfile ${e.paths.dockerfile}`,
        `nix ${e.paths.nix}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  env
    .command('gc')
    .description('delete all but the newest versions of each profile')
    .addOption(
      new Option('--keep <n>', 'versions to keep per profile').argParser(parsePositiveInt).default(1),
    )
    .option('--json', 'print the deleted ids')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: EnvCliOptions) => {
      const gone = await (await load()).gcEnvironments({
        store: opts.store,
        wait: opts.wait ?? false,
        keep: opts.keep,
      });
      if (opts.json) printJson(gone);
      else process.stdout.write(`deleted ${formatCount(gone.length)} environments\n`);
    });
}

interface ResolveCliOptions {
  store?: string;
  wait?: number | true;
  json?: boolean;
  run?: boolean;
  sandbox?: 'bubblewrap' | 'process';
}

export function registerResolveCommand(program: Command): void {
  program
    .command('resolve')
    .description(
      'the environment a submission runs in: hit, partial (merge what it lacks) or miss (assemble)',
    )
    .argument('<submission>', 'a file or directory of code inside the chunked root')
    .argument('[command...]', 'with --run, the command to run (after --); default: node FILE or python3 FILE')
    .option('--run', 'run the submission in the environment, sandboxed')
    .addOption(
      new Option('--sandbox <kind>', 'force the sandbox: bubblewrap or process').choices([
        'bubblewrap',
        'process',
      ]),
    )
    .option('--json', 'print {environment, match, merged, readyMs, sandbox, run}')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (submission: string, command: string[], opts: ResolveCliOptions) => {
      const { resolveSubmission } = await import('../../env/resolve.js');
      const r = await resolveSubmission(submission, {
        store: opts.store,
        wait: opts.wait ?? false,
        run: opts.run,
        command,
        prefer: opts.sandbox,
      });
      if (r.run !== null) process.exitCode = r.run.exitCode;
      if (opts.json) {
        printJson({
          environment: r.environment,
          match: r.match,
          merged: r.merged,
          readyMs: r.readyMs,
          sandbox: r.sandbox,
          run: r.run,
        });
        return;
      }
      // stdout belongs to the submission when it runs; ccx speaks on stderr.
      const out = r.run === null ? process.stdout : process.stderr;
      out.write(
        `ccx: ${r.match} — environment ${r.environment}${r.matched !== null && r.matched !== r.environment ? ` (extends ${r.matched})` : ''}, ${r.merged.length} chunks merged, ready in ${r.readyMs} ms\n`,
      );
      if (r.run !== null) {
        out.write(
          `ccx: ran \`${r.command?.join(' ')}\` in ${r.sandbox === 'bubblewrap' ? 'a bubblewrap sandbox' : `a plain child process (${r.sandboxReason})`}: exit ${r.run.exitCode}, ${r.run.wallMs} ms, ${r.run.maxRssKb} KiB${r.dynamic.length > 0 ? `; loaded from the store at run time: ${r.dynamic.join(', ')}` : ''}\n`,
        );
      }
    });
}
