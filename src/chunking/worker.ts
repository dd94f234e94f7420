/**
 * Worker-thread entry: decodes and analyzes files sent by {@link WorkerPool}. One parser per
 * thread; grammars load on first use.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { SourceAnalyzer } from './analyze.js';
import { type AnalyzeRequest, type AnalyzeResponse, analyzeFileBytes } from './pool.js';

// Without the native flattener, syntax trees live in native memory that V8 does not see, so it
// would collect them late and the process would grow by hundreds of MB. Collect explicitly every
// few MB of source instead. (The native flattener frees each tree before it returns.)
const GC_EVERY_BYTES = 4 * 1024 * 1024;

const analyzer = new SourceAnalyzer();
const collectGarbage = analyzerGc();
let bytesSinceGc = 0;

parentPort!.on('message', (request: AnalyzeRequest) => {
  void handle(request).then((response) => parentPort!.postMessage(response));
});

async function handle(request: AnalyzeRequest): Promise<AnalyzeResponse> {
  const response = await analyzeFileBytes(analyzer, request);
  bytesSinceGc += request.bytes.byteLength;
  if (bytesSinceGc >= GC_EVERY_BYTES) {
    bytesSinceGc = 0;
    collectGarbage();
  }
  return response;
}

/**
 * A way to force a full GC in this thread, needed only for the JavaScript walk. `--expose-gc`
 * set at run time reaches new contexts only, and not reliably in every worker; where it fails,
 * V8's own heuristics (and the worker's bounded heap) have to do.
 */
function analyzerGc(): () => void {
  if (analyzer.usesNative) return () => undefined;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    setFlagsFromString('--no-expose-gc');
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through
  }
  return () => undefined;
}
