/**
 * A fixed pool of worker threads that parse and analyze files (src/chunking/worker.ts).
 * Work is handed out one file at a time to whichever worker is free, so a large file does not
 * hold back a queue of small ones.
 */
import { Worker } from 'node:worker_threads';
import type { SourceAnalyzer } from './analyze.js';
import { decodeSource } from './read-source.js';
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

/**
 * Decodes and analyzes one file's bytes with `analyzer`: what a worker does with a request, and
 * what {@link InThreadAnalyzer} does without one. Never throws.
 */
export async function analyzeFileBytes(
  analyzer: SourceAnalyzer,
  request: AnalyzeRequest,
): Promise<AnalyzeResponse> {
  try {
    const bytes = new Uint8Array(request.bytes);
    const decoded = decodeSource(bytes, request.maxFileBytes);
    if (!decoded.ok) return { id: request.id, skipped: decoded.reason };
    const analysis = await analyzer.analyze(decoded.text, request.language, decoded.bomBytes, bytes.length);
    return { id: request.id, analysis };
  } catch (error) {
    return { id: request.id, failed: error instanceof Error ? error.message : String(error) };
  }
}

/** What the chunk pipeline needs from an analyzer pool. */
export interface FileAnalyzer {
  analyze(language: Language, bytes: Uint8Array, maxFileBytes: number): Promise<AnalyzeResponse>;
  close(): Promise<void>;
}

/**
 * Analysis on the calling thread: for a handful of files (a rerun after an edit) starting
 * workers, each loading the grammars again, costs more than the work itself.
 */
export class InThreadAnalyzer implements FileAnalyzer {
  private analyzer: SourceAnalyzer | undefined;
  private nextId = 0;

  async analyze(language: Language, bytes: Uint8Array, maxFileBytes: number): Promise<AnalyzeResponse> {
    if (this.analyzer === undefined) {
      const { SourceAnalyzer } = await import('./analyze.js');
      this.analyzer = new SourceAnalyzer();
    }
    const view =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    return analyzeFileBytes(this.analyzer, {
      id: this.nextId++,
      language,
      bytes: view.buffer as ArrayBuffer,
      maxFileBytes,
    });
  }

  async close(): Promise<void> {}
}

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

/**
 * Files handed to one worker ahead of time: while the main thread is busy (storing a batch, say)
 * a worker that finishes a file starts the next one at once instead of waiting for a message.
 */
const DEPTH_PER_WORKER = 2;

export class WorkerPool implements FileAnalyzer {
  private readonly workers: Worker[] = [];
  private readonly queue: Pending[] = [];
  /** Files sent to each worker and not answered yet, in the order sent. */
  private readonly inFlight = new Map<Worker, Pending[]>();
  private nextId = 0;
  private closed = false;

  /** Starts `size` (>= 1) worker threads. */
  constructor(size: number) {
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
    this.inFlight.set(worker, []);
  }

  /** Analyzes one file's bytes; never rejects (failures come back as `failed`). */
  analyze(language: Language, bytes: Uint8Array, maxFileBytes: number): Promise<AnalyzeResponse> {
    if (this.closed) return Promise.resolve({ id: -1, failed: 'worker pool closed' });
    const request: AnalyzeRequest = { id: this.nextId++, language, bytes: new ArrayBuffer(0), maxFileBytes };
    return new Promise((resolve) => {
      this.queue.push({ request, resolve, crashes: 0, bytes });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (let depth = 1; depth <= DEPTH_PER_WORKER; depth++) {
      for (const worker of this.workers) {
        const pending = this.inFlight.get(worker)!;
        if (pending.length >= depth || this.queue.length === 0) continue;
        const job = this.queue.shift()!;
        // A copy of our own, so the transfer cannot detach memory the caller still uses.
        const own = new Uint8Array(job.bytes.length);
        own.set(job.bytes);
        job.request.bytes = own.buffer;
        pending.push(job);
        worker.ref();
        worker.postMessage(job.request, [job.request.bytes]);
      }
    }
  }

  private onMessage(worker: Worker, response: AnalyzeResponse): void {
    const pending = this.inFlight.get(worker) ?? [];
    const i = pending.findIndex((p) => p.request.id === response.id);
    const job = i === -1 ? undefined : pending.splice(i, 1)[0];
    if (pending.length === 0) worker.unref();
    job?.resolve(response);
    this.dispatch();
  }

  private onCrash(worker: Worker, error: Error): void {
    const pending = this.inFlight.get(worker) ?? [];
    this.inFlight.delete(worker);
    // Retry once on a fresh worker: a second death is the file's doing, and is reported.
    for (const job of pending.reverse()) {
      if (job.crashes++ === 0) this.queue.unshift(job);
      else job.resolve({ id: job.request.id, failed: `analyzer crashed: ${error.message}` });
    }
    const i = this.workers.indexOf(worker);
    if (i !== -1) this.workers.splice(i, 1);
    // One bad file (say, one that exhausts the worker's heap) must not stop the rest.
    if (!this.closed) this.spawn();
    this.dispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
