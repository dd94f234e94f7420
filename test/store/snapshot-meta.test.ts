/** Snapshot headers without content, and replacing a snapshot's meta without touching its id. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { makeEntry, makeTempDir } from './helpers.js';

describe('snapshot meta', () => {
  it('reads the header alone and replaces meta, keeping id, content and verify', async () => {
    const store = await openStore(path.join(makeTempDir(), 'store'));
    try {
      const entry = makeEntry(Buffer.from('const a = 1;\n'));
      await store.putFiles([entry]);
      const id = await store.writeSnapshot({
        root: '/repo',
        parent: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        content: { files: ['a'] },
        meta: { stats: 1 },
        fileShas: [entry.sha256],
      });
      expect(await store.getSnapshotSummary(id)).toEqual({
        id,
        root: '/repo',
        parent: null,
        createdAt: '2026-01-01T00:00:00.000Z',
        meta: { stats: 1 },
      });
      await store.setSnapshotMeta(id, { stats: 2, extra: 'x' });
      const after = await store.getSnapshot(id);
      expect(after?.meta).toEqual({ stats: 2, extra: 'x' });
      expect(after?.content).toEqual({ files: ['a'] });
      expect(await store.getHead('/repo')).toBe(id);
      expect((await store.verify()).ok).toBe(true);
      expect(await store.getSnapshotSummary('0'.repeat(64))).toBeUndefined();
      await store.setSnapshotMeta('0'.repeat(64), {});
      expect((await store.verify()).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
