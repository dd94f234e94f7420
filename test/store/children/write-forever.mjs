// Writes files and snapshots in a loop until killed, reporting each committed snapshot id over IPC.
// Arguments: the transpiled store module, the store path, the root, a label for this run.
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const [storeModule, storePath, root, label] = process.argv.slice(2);
const { openStore } = await import(pathToFileURL(storeModule).href);

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

function chunk(localId, hash, start, end) {
  return {
    localId,
    name: localId,
    kind: localId === '' ? 'module' : 'function',
    startByte: start,
    endByte: end,
    startLine: 1,
    endLine: 1,
    size: end - start,
    hash,
    interfaceHash: hash,
    refs: [],
    selfRefs: [],
  };
}

function makeEntry(text) {
  const bytes = Buffer.from(text, 'utf8');
  const split = bytes.indexOf('export function');
  const sha = sha256(bytes);
  const fnText = bytes.subarray(split).toString('utf8');
  return {
    sha256: sha,
    bytes,
    analysisKey: `test-1:typescript:${sha}`,
    analysis: {
      language: 'typescript',
      status: 'ok',
      chunks: [
        chunk('', sha256(`m${sha}`), 0, bytes.length),
        chunk('f', sha256(fnText), split, bytes.length),
      ],
      segments: [
        [0, split, 0],
        [split, bytes.length, 1],
      ],
      topLevel: { f: 'f' },
      imports: [],
      exports: [],
    },
  };
}

const store = await openStore(storePath, { wait: true });
let parent = await store.getHead(root);
for (let step = 0; ; step++) {
  const entries = [];
  for (let f = 0; f < 40; f++) {
    entries.push(
      makeEntry(
        `// ${label} step ${step} file ${f}\n${'// filler line\n'.repeat(50)}export function f() {\n  return ${step * 1000 + f};\n}\n`,
      ),
    );
  }
  await store.putFiles(entries);
  const fileShas = entries.map((entry) => entry.sha256);
  const content = {
    label,
    step,
    files: fileShas,
    chunks: Array.from({ length: 3000 }, (_, i) => ({
      id: `${label}/${step}/${i}`,
      hash: sha256(`${step}:${i}`),
    })),
  };
  parent = await store.writeSnapshot({
    root,
    parent,
    createdAt: new Date().toISOString(),
    content,
    meta: { step },
    fileShas,
  });
  process.send({ id: parent, step });
}
