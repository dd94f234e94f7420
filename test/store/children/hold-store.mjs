// Opens a store and holds it (and its lock) until the parent sends 'close'.
// Arguments: the transpiled store module, the store path. Reports over IPC.
import { pathToFileURL } from 'node:url';

const [storeModule, storePath] = process.argv.slice(2);
const { openStore } = await import(pathToFileURL(storeModule).href);

try {
  const store = await openStore(storePath);
  process.on('message', async (message) => {
    if (message !== 'close') return;
    await store.close();
    process.send({ type: 'closed' }, () => process.disconnect());
  });
  process.send({ type: 'open' });
} catch (error) {
  process.send({ type: 'error', code: error.code, message: error.message }, () => process.disconnect());
}
