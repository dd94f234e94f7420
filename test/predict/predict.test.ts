/**
 * `ccx train`, `ccx predict`, `ccx eval` on the run fixture: histories recorded by `ccx run`
 * (and imported), models kept in the store, predictions with probabilities, the cold start, and a
 * replay that scores the methods against the baselines.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cosine, FeatureSpace, subTokens } from '../../src/predict/features.js';
import { createModel, type TrainingItem } from '../../src/predict/model.js';
import { predict } from '../../src/predict/predict.js';
import { copyFixture, makeTemp, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

function item(
  submission: string,
  staticSet: string[],
  used: string[],
  ownChunks = staticSet.slice(0, 1),
): TrainingItem {
  return { submission, staticSet, ownChunks, used };
}

describe('models', () => {
  it('knn weighs the nearest executions by Jaccard similarity', () => {
    const m = createModel('knn');
    expect(m.predict({ staticSet: ['a'], ownChunks: ['a'] }).coldStart).toBe(true);
    m.add(item('s1', ['a', 'b'], ['a', 'x']));
    m.add(item('s2', ['a', 'c'], ['a', 'y']));
    m.add(item('s3', ['z'], ['q']));
    const p = m.predict({ staticSet: ['a', 'b'], ownChunks: ['a'] });
    expect(p.coldStart).toBe(false);
    // s1 (similarity 1) and s2 (1/3) vote; s3 shares nothing.
    expect(p.predicted).toEqual([
      { id: 'a', p: 1 },
      { id: 'x', p: 0.75 },
    ]);
    expect(m.predict({ staticSet: ['n'], ownChunks: ['n'] }).coldStart).toBe(true);
  });

  it('cooccur predicts by the confidence of rules from the submission own chunks', () => {
    const m = createModel('cooccur');
    m.add(item('s1', ['t1', 'lib'], ['t1', 'lib', 'f'], ['t1']));
    m.add(item('s1', ['t1', 'lib'], ['t1', 'lib', 'g'], ['t1']));
    m.add(item('s2', ['t2', 'lib'], ['t2', 'h'], ['t2']));
    const p = m.predict({ staticSet: ['t1', 'lib'], ownChunks: ['t1'] });
    expect(p.predicted).toEqual([
      { id: 'lib', p: 1 },
      { id: 't1', p: 1 },
      { id: 'f', p: 0.5 },
      { id: 'g', p: 0.5 },
    ]);
    expect(m.predict({ staticSet: ['t3'], ownChunks: ['t3'] }).coldStart).toBe(true);
  });
});

describe('features', () => {
  it('splits identifiers into sub-tokens and compares submissions by content', () => {
    expect(subTokens('parseQueryString')).toEqual(['parse', 'query', 'string']);
    expect(subTokens('HTTPServer_v2')).toEqual(['http', 'server', 'v2']);
    const space = new FeatureSpace();
    const a = ['parse', 'query', 'string', 'kind:function'];
    const b = ['format', 'date', 'kind:class'];
    space.add(a);
    space.add(b);
    expect(cosine(space.vector(a), space.vector(a))).toBeCloseTo(1, 6);
    expect(cosine(space.vector(['parse', 'query']), space.vector(a))).toBeGreaterThan(
      cosine(space.vector(['parse', 'query']), space.vector(b)),
    );
  });

  it('lets knn find neighbours by content when no static chunk is shared', () => {
    const m = createModel('knn');
    m.add({ ...item('s1', ['a.test'], ['lib#parse']), tokens: ['parse', 'query', 'string'] });
    m.add({ ...item('s2', ['b.test'], ['lib#format']), tokens: ['format', 'date', 'time'] });
    const p = m.predict({ staticSet: ['c.test'], ownChunks: ['c.test'], tokens: ['parse', 'query', 'url'] });
    expect(p.coldStart).toBe(false);
    expect(p.predicted).toEqual([{ id: 'lib#parse', p: 1 }]);
    expect(m.predict({ staticSet: ['d.test'], ownChunks: ['d.test'], tokens: ['zzz'] }).coldStart).toBe(true);
  });
});

describe('hybrid', () => {
  it('answers by rules for a submission seen before and by neighbours for a new one', () => {
    const m = createModel('hybrid');
    m.add(item('s1', ['t1', 'lib'], ['t1', 'lib', 'f'], ['t1']));
    m.add(item('s2', ['t2', 'lib'], ['t2', 'lib', 'g'], ['t2']));
    expect(m.predict({ staticSet: ['t1', 'lib'], ownChunks: ['t1'] }).predicted.map((x) => x.id)).toEqual([
      'f',
      'lib',
      't1',
    ]);
    // t3 is new: its neighbours (by the shared lib) vote; lib is used by both.
    const fresh = m.predict({ staticSet: ['t3', 'lib'], ownChunks: ['t3'] });
    expect(fresh.coldStart).toBe(false);
    expect(fresh.predicted[0]).toEqual({ id: 'lib', p: 1 });
  });
});

describe('ccx train, predict, eval', () => {
  it('falls back to the static closure without history, then learns from recorded runs', async () => {
    const root = copyFixture('exec/app');
    expect((await runCcx(['chunk', root, '--quiet'])).exitCode).toBe(0);
    const cold = await runCcx(['predict', 'main.js', '--json'], { cwd: root });
    expect(cold.exitCode, cold.stderr).toBe(0);
    const coldOut = JSON.parse(cold.stdout);
    expect(Object.keys(coldOut)).toEqual(['submission', 'model', 'static', 'predicted', 'coldStart']);
    expect(coldOut).toMatchObject({ submission: 'main.js', model: null, predicted: [], coldStart: true });
    expect(coldOut.static).toEqual([
      'lib/math.js',
      'lib/math.js#add',
      'lib/math.js#mul',
      'lib/math.js#unused',
      'main.js',
    ]);
    const coldText = await runCcx(['predict', 'main.js'], { cwd: root });
    expect(coldText.stderr).toContain('no trained model (ccx train): the answer is the static closure');

    for (let i = 0; i < 2; i++) {
      await runCcx(['run', '--quiet', '--', 'node', 'main.js'], { cwd: root });
      await runCcx(['run', '--quiet', '--', 'node', 'child.js'], { cwd: root });
    }
    const trained = await runCcx(['train', '--method', 'cooccur', '--json'], { cwd: root });
    expect(JSON.parse(trained.stdout)).toMatchObject({ method: 'cooccur', records: 4 });
    await runCcx(['train'], { cwd: root });
    const list = await runCcx(['train', '--list'], { cwd: root });
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('  ')[1]),
    ).toEqual(['cooccur', 'knn']);

    const warm = JSON.parse(
      (await runCcx(['predict', 'main.js', '--json', '--method', 'cooccur'], { cwd: root })).stdout,
    );
    expect(warm.coldStart).toBe(false);
    // main.js starts child.js, so the child's chunks are predicted though no static edge leads there.
    expect(warm.predicted.map((x: { id: string }) => x.id).sort()).toEqual([
      'child.js',
      'child.js#inner',
      'lib/math.js',
      'lib/math.js#add',
      'lib/math.js#mul',
      'main.js',
    ]);
    expect(warm.predicted.every((x: { p: number }) => x.p === 1)).toBe(true);
    const top = JSON.parse(
      (await runCcx(['predict', 'main.js', '--json', '--top', '2'], { cwd: root })).stdout,
    );
    expect(top.predicted).toHaveLength(2);
    const verbose = await runCcx(['predict', 'main.js', '--verbose'], { cwd: root });
    expect(verbose.stderr).toMatch(/^load [\d.]+ ms, features [\d.]+ ms, prediction [\d.]+ ms$/m);

    // In one process, asking again for the same submission is answered from the cache.
    const first = await predict(path.join(root, 'main.js'), { root });
    const again = await predict(path.join(root, 'main.js'), { root });
    expect(first.timings.cached).toBe(false);
    expect(again.timings.cached).toBe(true);
    expect(again.predicted).toEqual(first.predicted);

    const outside = await runCcx(['predict', makeTemp(), '--json'], { cwd: root });
    expect(outside.exitCode).toBe(2);
    expect(outside.stderr).toMatch(/is outside the chunked root/);
  });

  it('replays the history and scores methods and baselines', async () => {
    const root = copyFixture('exec/app');
    expect((await runCcx(['chunk', root, '--quiet'])).exitCode).toBe(0);
    await runCcx(['run', '--quiet', '--', 'node', 'main.js'], { cwd: root });
    await runCcx(['run', '--quiet', '--', 'node', 'child.js'], { cwd: root });
    const real = JSON.parse((await runCcx(['history', 'ls', '--json'], { cwd: root })).stdout);
    // A replay: main.js, child.js, main.js, child.js... one a minute.
    const lines = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({
        ...real[i % 2],
        id: `replay-${i}`,
        startedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      }),
    );
    const file = path.join(makeTemp(), 'replay.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const store = path.join(makeTemp(), 'store');
    await runCcx(['chunk', root, '--quiet', '--store', store]);
    expect((await runCcx(['history', 'import', file, '--store', store])).exitCode).toBe(0);
    const r = await runCcx(['eval', '--json', '--store', store], { cwd: root });
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.records).toBe(10);
    const by = new Map(out.methods.map((m: { name: string }) => [m.name, m]));
    expect([...by.keys()]).toEqual(['knn', 'cooccur', 'hybrid', 'static', 'popularity', 'recent', 'oracle']);
    expect(by.get('oracle')).toMatchObject({ recall: 1, precision: 1, fullHitRate: 1 });
    // After one run of each, every method that learns predicts every later run exactly.
    expect((by.get('cooccur') as { fullHitRate: number }).fullHitRate).toBeGreaterThan(
      (by.get('popularity') as { fullHitRate: number }).fullHitRate,
    );
    expect((by.get('cooccur') as { meanChunks: number }).meanChunks).toBeLessThanOrEqual(
      (by.get('static') as { meanChunks: number }).meanChunks + 2,
    );
    const text = await runCcx(['eval', '--store', store], { cwd: root });
    expect(text.stdout).toMatch(/^10 records replayed in time order$/m);
    expect(text.stdout).toMatch(/^oracle\s+1\.000\s+1\.000\s+1\.000/m);
  });
});
