/**
 * Layers by observed co-usage, as nixpkgs' `streamLayeredImage` orders store paths by
 * popularity: the units (assemble.ts) of a set of environments are grouped by the exact set of
 * environments that hold them, so every environment holding a group holds all of it and the
 * group's layer has the same bytes, hence the same digest, in each (shared layers are stored and
 * pulled once). Groups shared by more environments go lower; environment-specific ones on top.
 * Within a group, npm packages, then configuration, then data files, then sources get a layer
 * each (packages change least often). Past `maxLayers`, an environment's least-shared groups merge into one
 * top layer.
 */

/** One layer of one environment: the keys of the units it holds. */
export interface LayerPlan {
  /** Unit keys, sorted. */
  units: string[];
  /** How many of the environments planned together hold this layer. */
  shared: number;
}

const KIND_ORDER: Record<string, number> = { npm: 0, cfg: 1, dat: 2, src: 3 };

function kindOf(unitKey: string): number {
  return KIND_ORDER[unitKey.slice(0, unitKey.indexOf(':'))] ?? 4;
}

/**
 * Plans the layers of each environment, bottom first.
 * @param envs environment id -> the unit keys it holds
 * @param maxLayers the most layers one environment may have (OCI images: 100 less the base's)
 * @throws RangeError when maxLayers is below 1
 */
export function planLayers(
  envs: ReadonlyMap<string, readonly string[]>,
  maxLayers: number,
): Map<string, LayerPlan[]> {
  if (maxLayers < 1) throw new RangeError('maxLayers must be at least 1');
  const holders = new Map<string, string[]>();
  for (const [env, units] of [...envs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const u of new Set(units)) {
      const list = holders.get(u);
      if (list === undefined) holders.set(u, [env]);
      else list.push(env);
    }
  }
  // Group by (holders, kind).
  const groups = new Map<string, { holders: string[]; kind: number; units: string[] }>();
  for (const [unit, hs] of holders) {
    const kind = kindOf(unit);
    const key = `${hs.join('\u0000')}\u0001${kind}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { holders: hs, kind, units: [unit] });
    else g.units.push(unit);
  }
  const out = new Map<string, LayerPlan[]>();
  for (const env of envs.keys()) out.set(env, []);
  const ordered = [...groups.values()]
    .map((g) => ({ ...g, units: g.units.sort() }))
    .sort(
      (a, b) =>
        b.holders.length - a.holders.length ||
        a.kind - b.kind ||
        (a.units[0]! < b.units[0]! ? -1 : a.units[0]! > b.units[0]! ? 1 : 0),
    );
  for (const g of ordered)
    for (const env of g.holders) out.get(env)!.push({ units: g.units, shared: g.holders.length });
  for (const [env, layers] of out) {
    if (layers.length <= maxLayers) continue;
    const top = layers.splice(maxLayers - 1);
    layers.push({ units: top.flatMap((l) => l.units).sort(), shared: 1 });
    out.set(env, layers);
  }
  return out;
}
