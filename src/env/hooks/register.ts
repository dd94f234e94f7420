/**
 * Loaded with `node --import` in a process that runs in an environment directory (`ccx resolve
 * --run`): registers the module hook of loader.ts. Reads `CCX_STORE_SOCKET` (the Unix socket the
 * ccx process serves the store's files on) and `CCX_ENV_DIR` (default: the working directory).
 */
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const socket = process.env.CCX_STORE_SOCKET;
if (socket !== undefined && socket !== '') {
  register('./loader.js', import.meta.url, {
    data: {
      socket,
      envDir: path.resolve(process.env.CCX_ENV_DIR ?? process.cwd()),
      dynamicDir: path.join(tmpdir(), 'ccx-dynamic'),
    },
  });
}
