// The curves plot's axis ticks, read back from the rendered SVG: epochs are whole numbers and
// no tick carries a run of zeros, for one epoch (a zero-width domain) as for a hundred.
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { curvesSpec, renderSvg, type CurvePoint } from '../src/recipes/plots.ts';

/** The tick labels of each axis of an SVG rendered by vega, keyed by the axis' aria-label title. */
function axisLabels(svg: string): Map<string, string[]> {
  const tree = new XMLParser({ ignoreAttributes: false, preserveOrder: true, parseTagValue: false }).parse(svg) as Record<string, unknown>[];
  const out = new Map<string, string[]>();
  const walk = (nodes: Record<string, unknown>[], axis: string | null, labels: boolean) => {
    for (const n of nodes) {
      const tag = Object.keys(n).find((k) => k !== ':@')!;
      const attrs = (n[':@'] as Record<string, string> | undefined) ?? {};
      const title = /^([XY])-axis titled '([^']*)'/.exec(attrs['@_aria-label'] ?? '');
      const a = title ? `${title[1]} ${title[2]}` : axis;
      const isLabels = labels || /role-axis-label/.test(attrs['@_class'] ?? '');
      if (tag === '#text' && a && isLabels) out.set(a, [...(out.get(a) ?? []), String(n[tag])]);
      if (Array.isArray(n[tag])) walk(n[tag] as Record<string, unknown>[], a, isLabels);
    }
  };
  walk(tree, null, false);
  return out;
}

const run = (epochs: number, flat = false): CurvePoint[] =>
  Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, trainLoss: flat ? 2.3 : 2.3 / (i + 1), evalLoss: flat ? 2.3 : 2.4 / (i + 1), evalAccuracy: flat ? 0.1 : 0.5 + i / (2 * epochs) }));

describe('curves plot ticks', () => {
  for (const [name, points] of [['one epoch', run(1)], ['a flat run of 3 epochs', run(3, true)], ['100 epochs', run(100)]] as const) {
    it(`${name}: whole-number epochs, no tick with a run of zeros`, async () => {
      const labels = axisLabels(await renderSvg(curvesSpec(points, { title: 't', evalName: 'test' })));
      expect([...labels.keys()].sort()).toEqual(['X epoch', 'Y loss', 'Y test accuracy (%)']);
      const epochs = labels.get('X epoch')!;
      for (const t of epochs) expect(t, `epoch tick "${t}"`).toMatch(/^\d+$/);
      if (points.length === 1) expect([...new Set(epochs)]).toEqual(['1']); // one x axis per panel
      for (const [axis, ticks] of labels) {
        expect(ticks.length, axis).toBeGreaterThan(0);
        for (const t of ticks) expect(t, `${axis} tick "${t}"`).not.toMatch(/\.\d*000$/);
      }
    });
  }
});
