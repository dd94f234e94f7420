/** `ccx train`, `ccx predict SUBMISSION` and `ccx eval`: options -> core -> text or JSON. */
import { type Command, Option } from 'commander';
import { parsePositiveInt, storeOption, waitOption } from '../program.js';
import { formatCount, printJson } from '../render.js';

interface PredictCliOptions {
  store?: string;
  wait?: number | true;
  json?: boolean;
  method?: string;
  list?: boolean;
  top?: number;
  verbose?: boolean;
  embedModel?: string;
}

const embedModelOption = () =>
  new Option(
    '--embed-model <dir>',
    'also compare submissions by chunk embeddings from a local model (Hugging Face ONNX layout)',
  );

export function registerPredictCommands(program: Command): void {
  const load = () => import('../../predict/predict.js');

  program
    .command('train')
    .description('build a co-usage model from the execution history and keep it in the store')
    .addOption(
      new Option('--method <name>', 'knn (k nearest executions by Jaccard) or cooccur (rules)').default(
        'knn',
      ),
    )
    .option('--list', 'list the trained models instead: id, method, records used, time')
    .option('--json', 'print as JSON')
    .addOption(embedModelOption())
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: PredictCliOptions) => {
      const core = await load();
      const common = { store: opts.store, wait: opts.wait ?? false };
      if (opts.list) {
        const models = await core.listModels(common);
        if (opts.json) printJson(models);
        else
          for (const m of models)
            process.stdout.write(`${m.id}  ${m.method}  ${formatCount(m.records)} records  ${m.createdAt}\n`);
        return;
      }
      const info = await core.train({ ...common, method: opts.method, embedModel: opts.embedModel });
      if (opts.json) printJson(info);
      else
        process.stdout.write(
          `trained ${info.method} model ${info.id} on ${formatCount(info.records)} records${info.embedModel ? ` with embeddings (model ${info.embedModel})` : ''}\n`,
        );
    });

  program
    .command('predict')
    .description(
      'the chunks a submission will use: its static closure and the co-used chunks with probabilities',
    )
    .argument('<submission>', 'a file or directory of code inside the chunked root')
    .addOption(new Option('--top <k>', 'at most this many predicted chunks').argParser(parsePositiveInt))
    .option('--method <name>', 'use the newest model of this method (default: the newest model)')
    .option('--json', 'print {submission, model, static, predicted, coldStart} as JSON')
    .option('--verbose', 'print a latency breakdown on stderr')
    .addOption(embedModelOption())
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (submission: string, opts: PredictCliOptions) => {
      const r = await (await load()).predict(submission, {
        store: opts.store,
        wait: opts.wait ?? false,
        top: opts.top,
        method: opts.method,
        embedModel: opts.embedModel,
      });
      for (const note of r.notes) process.stderr.write(`ccx: ${note}\n`);
      if (opts.verbose) {
        const t = r.timings;
        const e = r.embeddings;
        process.stderr.write(
          `load ${t.loadMs} ms, features ${t.featuresMs} ms, prediction ${t.predictMs} ms${t.cached ? ' (cached)' : ''}\n${
            e === undefined
              ? ''
              : `embeddings: ${e.computed} computed, ${e.stored} from the store, ${e.memory} from memory, ${e.evicted} evicted\n`
          }`,
        );
      }
      if (opts.json) {
        const { timings: _timings, embeddings: _embeddings, notes: _notes, ...out } = r;
        printJson(out);
        return;
      }
      if (r.coldStart) {
        process.stderr.write(
          r.model === null
            ? 'ccx: no trained model (ccx train): the answer is the static closure\n'
            : 'ccx: nothing in the history resembles this submission: the answer is the static closure\n',
        );
      }
      process.stdout.write(`static (${r.static.length}):\n${r.static.map((id) => `  ${id}\n`).join('')}`);
      process.stdout.write(
        `predicted (${r.predicted.length}):\n${r.predicted.map((x) => `  ${x.p.toFixed(2)}  ${x.id}\n`).join('')}`,
      );
    });

  program
    .command('eval')
    .description("replay the history: each method's predictions scored against what each run used")
    .option('--json', 'print {records, methods: [{name, recall, precision, fullHitRate, ...}]} as JSON')
    .addOption(embedModelOption())
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (opts: PredictCliOptions) => {
      const r = await (await load()).evaluate({
        store: opts.store,
        wait: opts.wait ?? false,
        embedModel: opts.embedModel,
      });
      if (opts.json) {
        printJson(r);
        return;
      }
      const lines = [
        `${formatCount(r.records)} records replayed in time order`,
        'method      recall  precision  full hits  mean chunks  mean bytes  p50 ms  p95 ms',
        ...r.methods.map(
          (m) =>
            `${m.name.padEnd(10)}  ${m.recall.toFixed(3)}   ${m.precision.toFixed(3)}      ${m.fullHitRate.toFixed(3)}      ${String(m.meanChunks).padStart(8)}  ${String(m.meanBytes).padStart(10)}  ${m.p50Ms.toFixed(2).padStart(6)}  ${m.p95Ms.toFixed(2).padStart(6)}`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
