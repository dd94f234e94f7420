/**
 * A fixed pool of worker threads that parse and analyze files (src/chunking/worker.ts).
 * Work is handed out one file at a time to whichever worker is free, so a large file does not
 * hold back a queue of small ones.
 */
import { Worker } from 'node:worker_threads';
import type { FileAnalysis, Language } from './types.js';

/** One file to analyze; `bytes` is transferred, not copied. */
export interface AnalyzeRequest {
  id: number;
  language: Language;
  bytes: ArrayBuffer;
  maxFileBytes: number;
}

/** The answer: an analysis, a reason the file is not chunked, or an analyzer failure. */
export type AnalyzeResponse =
  | { id: number; analysis: FileAnalysis; skipped?: undefined; failed?: undefined }
  | { id: number; skipped: string; analysis?: undefined; failed?: undefined }
  | { id: number; failed: string; analysis?: undefined; skipped?: undefined };

/** Old-generation heap limit of a worker, in MiB. */
const WORKER_OLD_SPACE_MB = 96;

interface Pending {
  request: AnalyzeRequest;
  resolve: (r: AnalyzeResponse) => void;
  /** Times a worker died while holding this file. */
  crashes: number;
  /** The bytes, kept until answered: a transfer detaches `request.bytes`, a retry needs a copy. */
  bytes: Uint8Array;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly inFlight = new Map<Worker, Pending>();
  private nextId = 0;
  private closed = false;

  /** Starts `size` (>= 1) worker threads. */
  constructor(size: number) {
    // Under vitest the sources run as TypeScript; workers then need tsx's loader.
    for (let i = 0; i < Math.max(1, size); i++) this.spawn();
  }

  private spawn(): void {
    // A small heap keeps V8 collecting a worker's short-lived garbage (one file at a time)
    // instead of growing towards its default limit, which scales with the machine's memory.
    const resourceLimits = { maxOldGenerationSizeMb: WORKER_OLD_SPACE_MB, maxYoungGenerationSizeMb: 16 };
    const isTs = import.meta.url.endsWith('.ts');
    let worker: Worker;
    if (isTs) {
      // Under vitest the sources run as TypeScript: the worker registers tsx's loader itself
      // (a loader given in execArgv does not reach worker threads).
      const url = new URL('./worker.ts', import.meta.url).href;
      const bootstrap = `(async () => { const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(url)}); })();`;
      worker = new Worker(bootstrap, { eval: true, resourceLimits });
    } else {
      worker = new Worker(new URL('./worker.js', import.meta.url), { resourceLimits });
    }
    worker.on('message', (response: AnalyzeResponse) => this.onMessage(worker, response));
    worker.on('error', (error) => this.onCrash(worker, error));
    worker.unref();
    this.workers.push(worker);
    this.idle.push(worker);
  }

  /** Analyzes one file's bytes; never rejects (failures come back as `failed`). */
  analyze(language: Language, bytes: Uint8Array, maxFileBytes: number): Promise<AnalyzeResponse> {
    if (this.closed) return Promise.resolve({ id: -1, failed: 'worker pool closed' });
    // Copy into a buffer of our own so the transfer cannot detach memory shared with others.
    const request: AnalyzeRequest = { id: this.nextId++, language, bytes: new ArrayBuffer(0), maxFileBytes };
    return new Promise((resolve) => {
      this.queue.push({ request, resolve, crashes: 0, bytes });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      // A copy of our own, so the transfer cannot detach memory the caller still uses.
      const own = new Uint8Array(job.bytes.length);
      own.set(job.bytes);
      job.request.bytes = own.buffer;
      this.inFlight.set(worker, job);
      worker.ref();
      worker.postMessage(job.request, [job.request.bytes]);
    }
  }

  private onMessage(worker: Worker, response: AnalyzeResponse): void {
    const job = this.inFlight.get(worker);
    this.inFlight.delete(worker);
    worker.unref();
    this.idle.push(worker);
    job?.resolve(response);
    this.dispatch();
  }

  private onCrash(worker: Worker, error: Error): void {
    const job = this.inFlight.get(worker);
    this.inFlight.delete(worker);
    if (job !== undefined) {
      // Retry once on a fresh worker: a second death is the file's doing, and is reported.
      if (job.crashes++ === 0) this.queue.unshift(job);
      else job.resolve({ id: job.request.id, failed: `analyzer crashed: ${error.message}` });
    }
    const i = this.workers.indexOf(worker);
    if (i !== -1) this.workers.splice(i, 1);
    const j = this.idle.indexOf(worker);
    if (j !== -1) this.idle.splice(j, 1);
    // One bad file (say, one that exhausts the worker's heap) must not stop the rest.
    if (!this.closed) this.spawn();
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
