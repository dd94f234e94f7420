#!/usr/bin/env node
// npm `install` script: builds the optional native accelerator (native/flatten.c) with
// node-gyp. Never fails the install: without a C compiler ccx works, only slower.
import { spawnSync } from 'node:child_process';

if (process.env.CCX_SKIP_NATIVE === '1') process.exit(0);
const r = spawnSync('node-gyp', ['rebuild'], {
  stdio: ['ignore', 'ignore', 'pipe'],
  encoding: 'utf8',
  shell: process.platform === 'win32',
});
if (r.status !== 0) {
  const why = r.error
    ? r.error.message
    : (r.stderr ?? '')
        .split('\n')
        .filter((l) => /error/i.test(l))
        .slice(0, 3)
        .join('; ');
  process.stderr.write(
    `ccx: the native tree flattener was not built (${why || `node-gyp exited ${r.status}`}); ccx will use the slower pure-JavaScript walk. Install a C compiler and run \`npm rebuild ccx\` to build it.\n`,
  );
}
