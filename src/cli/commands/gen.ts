/** `ccx gen --spec FILE`: options -> core -> a summary, the code alone, or the result as JSON. */
import { writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { parsePositiveInt, storeOption } from '../program.js';
import { formatMs, printJson } from '../render.js';

interface GenCliOptions {
  spec: string;
  technique: string;
  model?: string;
  device: string;
  dtype: string;
  beams?: number;
  maxNewTokens?: number;
  seed?: number;
  samples?: number;
  output?: string;
  json?: boolean;
  store?: string;
  root?: string;
  embedModel?: string;
  contextTokens?: number;
  timeLimit?: number;
  quiet?: boolean;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 1)
    throw new InvalidArgumentError('expected a whole number from 0 to 4294967295');
  return n;
}

/** The help text's closing lines: exit codes and where models come from. */
export const GEN_HELP_AFTER = `
Techniques: greedy, beam and sample (syntax-aware), hierarchical (outline first), rag (the store's most
relevant chunks in the prompt), retrieve (an existing function of the store, renamed; no model),
all (every one that can run). Candidates run against the spec's examples in a sandbox.

Models: a directory in the Hugging Face ONNX layout (config.json, tokenizer.json,
onnx/model*.onnx with past_key_values inputs), from --model or $CCX_MODEL; get one with
\`ccx model pull REPO_ID\`. --device cuda needs onnxruntime-node installed with
--onnxruntime-node-install=cuda12.

Exit status: 0 a candidate passes every example; 1 none does (or there are no examples);
2 an invalid spec, a missing model or store, or another error.`;

export function registerGenCommand(program: Command): void {
  program
    .command('gen')
    .description('generate a function from a spec with a local ONNX code model, verified on its examples')
    .requiredOption('--spec <file>', 'the request (shared/spec/gen-spec.schema.json)')
    .addOption(
      new Option('--technique <name>', 'how to generate')
        .choices(['all', 'greedy', 'beam', 'sample', 'hierarchical', 'rag', 'retrieve'])
        .default('all'),
    )
    .option('--model <dir>', 'model directory (default: $CCX_MODEL)')
    .addOption(
      new Option('--device <device>', 'where the model runs').choices(['cpu', 'cuda', 'auto']).default('cpu'),
    )
    .addOption(
      new Option('--dtype <dtype>', 'which ONNX file: model.onnx, _fp16, _quantized, _q4')
        .choices(['fp32', 'fp16', 'q8', 'q4'])
        .default('fp32'),
    )
    .addOption(
      new Option('--beams <n>', 'beams for beam, rag and hierarchical (default 4)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(
      new Option('--max-new-tokens <n>', 'tokens per candidate at most (default 256)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(
      new Option('--seed <n>', 'seed of the first sample; sample i uses seed + i (default 0)').argParser(
        parseSeed,
      ),
    )
    .addOption(
      new Option('--samples <n>', 'samples drawn by the sample technique (default 4)').argParser(
        parsePositiveInt,
      ),
    )
    .option('--output <file>', 'write the chosen code to this file (stdout then shows nothing else)')
    .option('--json', 'print the result (shared/spec/gen-result.schema.json)')
    .option('--root <dir>', 'the chunked root rag and retrieve search (default .)')
    .addOption(storeOption('<root>/.ccx'))
    .option('--embed-model <dir>', 'also rank retrieved chunks by embeddings from a local model')
    .addOption(
      new Option('--context-tokens <n>', 'model tokens for retrieved context (default 1024)').argParser(
        parsePositiveInt,
      ),
    )
    .addOption(
      new Option(
        '--time-limit <ms>',
        'time limit for one candidate on all examples (default 10000)',
      ).argParser(parsePositiveInt),
    )
    .option('--quiet', 'no progress or notes on stderr')
    .addHelpText('after', GEN_HELP_AFTER)
    .action(async (opts: GenCliOptions) => {
      const { gen } = await import('../../gen/gen.js');
      const say = (line: string) => {
        if (!opts.quiet) process.stderr.write(`ccx: ${line}\n`);
      };
      const { result, notes } = await gen({
        spec: opts.spec,
        technique: opts.technique as 'all',
        model: opts.model,
        device: opts.device as 'cpu',
        dtype: opts.dtype as 'fp32',
        beams: opts.beams,
        maxNewTokens: opts.maxNewTokens,
        seed: opts.seed,
        samples: opts.samples,
        root: opts.root,
        store: opts.store,
        embedModel: opts.embedModel,
        contextTokens: opts.contextTokens,
        timeLimitMs: opts.timeLimit,
        onProgress: process.stderr.isTTY ? say : undefined,
      });
      for (const note of notes) say(note);
      process.exitCode = result.status === 'success' ? 0 : 1;
      if (opts.output !== undefined) {
        if (result.status === 'failure')
          throw new UsageError(`nothing to write to ${opts.output}: ${result.error ?? 'no candidate'}`, {
            hint: 'try another technique, a model (--model), or a chunked store with --technique retrieve',
          });
        writeFileSync(opts.output, result.result.program_ast.code);
        say(`wrote ${opts.output} (${result.status}, confidence ${result.result.confidence_score})`);
        return;
      }
      if (opts.json) {
        printJson(result);
        return;
      }
      const r = result.result;
      const best = r.candidates[0];
      const lines = [
        `${result.status}: ${r.program_ast.name} by ${r.strategy}${best !== undefined && best.total > 0 ? `, ${best.passed}/${best.total} examples pass` : ''}, confidence ${r.confidence_score}, ${formatMs(r.time_taken * 1000)}`,
      ];
      if (r.model !== null) lines.push(`model: ${r.model.id} (${r.model.dtype}, ${r.model.device})`);
      if (r.retrieved !== undefined && r.retrieved.length > 0)
        lines.push(
          `retrieved: ${r.retrieved.slice(0, 5).join(', ')}${r.retrieved.length > 5 ? ', ...' : ''}`,
        );
      lines.push(
        `candidates: ${r.candidates.length} (${r.candidates.filter((c) => c.total > 0 && c.passed === c.total).length} pass every example)`,
      );
      if (result.error !== undefined) lines.push(`error: ${result.error}`);
      if (best !== undefined && best.errors !== undefined && result.status !== 'success')
        lines.push(...best.errors.slice(0, 3).map((e) => `  ${e}`));
      process.stdout.write(`${lines.join('\n')}\n`);
      if (r.program_ast.code !== '') process.stdout.write(`\n${r.program_ast.code.replace(/\n*$/, '\n')}`);
    });
}
