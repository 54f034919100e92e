// The three plots each CLI run writes, as Vega-Lite specifications rendered headless to SVG
// with vega's View.toSVG() (no DOM, no canvas), and to PNG with resvg when it is installed:
//   curves    loss (training and evaluation) and accuracy per epoch
//   samples   a grid of evaluation digits with predicted and true labels, wrong ones in red
//   histogram predictions against labels per class (tutorial 000's plt.hist of both)
// Pure functions from numbers to specs and strings; the CLI writes the files.

import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface CurvePoint {
  epoch: number;
  trainLoss: number;
  evalLoss: number;
  evalAccuracy: number;
}

const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const config = { font: FONT, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14 } };

/**
 * An explicit domain around values that are all equal (one epoch, or a loss that never moved):
 * vega's ticks over a zero-width domain come out as "25.000000". `pad` is the margin each side;
 * by default a tenth of the value (1 for 0). Empty when the values already span a range.
 */
function spread(values: readonly number[], pad?: number): { domain?: [number, number] } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return {};
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (hi > lo) return {};
  const d = pad ?? (Math.abs(lo) > 0 ? Math.abs(lo) / 10 : 1);
  return { domain: [lo - d, hi + d] };
}

/** Loss (training and evaluation) and accuracy per epoch, side by side. */
export function curvesSpec(points: readonly CurvePoint[], opts: { title: string; evalName: string }): TopLevelSpec {
  const loss = points.flatMap((p) => [
    { epoch: p.epoch, series: 'training loss', value: p.trainLoss },
    { epoch: p.epoch, series: `${opts.evalName} loss`, value: p.evalLoss },
  ]);
  const acc = points.map((p) => ({ epoch: p.epoch, series: `${opts.evalName} accuracy`, value: 100 * p.evalAccuracy }));
  const epochs = points.map((p) => p.epoch);
  const epochAxis = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { nice: false, zero: false, ...spread(epochs, 0.5) } } as const;
  const mark = { type: 'line', point: true, strokeWidth: 2 } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, subtitle: 'loss and accuracy per epoch' },
    config,
    hconcat: [
      {
        width: 320,
        height: 220,
        data: { values: loss },
        mark,
        encoding: {
          x: epochAxis,
          y: { field: 'value', type: 'quantitative', title: 'loss', scale: { zero: false, ...spread(loss.map((v) => v.value)) } },
          color: { field: 'series', type: 'nominal', title: null, sort: ['training loss', `${opts.evalName} loss`], legend: { orient: 'top' } },
        },
      },
      {
        width: 320,
        height: 220,
        data: { values: acc },
        mark: { ...mark, color: '#2a9d4b', point: { color: '#2a9d4b' } },
        encoding: {
          x: epochAxis,
          y: { field: 'value', type: 'quantitative', title: `${opts.evalName} accuracy (%)`, scale: { zero: false, ...spread(acc.map((v) => v.value)) } },
          tooltip: [{ field: 'epoch' }, { field: 'value', format: '.2f' }],
        },
      },
    ],
  } as TopLevelSpec;
}

export interface DigitSample {
  /** Pixels, row by row (28×28), any range: each digit is scaled to 0..1 for display. */
  pixels: ArrayLike<number>;
  height: number;
  width: number;
  pred: string;
  label: string;
}

/**
 * A grid of digits, white on black, each titled "pred P · true T"; a wrong prediction is
 * written in red and framed in red. Only pixels above 5 % of the digit's range are drawn.
 */
export function samplesSpec(samples: readonly DigitSample[], opts: { title: string; columns?: number }): TopLevelSpec {
  const values: Record<string, unknown>[] = [];
  samples.forEach((s, i) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < s.pixels.length; k++) {
      lo = Math.min(lo, s.pixels[k]!);
      hi = Math.max(hi, s.pixels[k]!);
    }
    const span = hi > lo ? hi - lo : 1;
    for (let r = 0; r < s.height; r++) {
      for (let c = 0; c < s.width; c++) {
        const v = (s.pixels[r * s.width + c]! - lo) / span;
        if (v > 0.05) values.push({ i, kind: 'px', c, c2: c + 1, r, r2: r + 1, v });
      }
    }
    const wrong = s.pred !== s.label;
    values.push({ i, kind: 'label', text: `pred ${s.pred} · true ${s.label}${wrong ? ' ✗' : ''}`, wrong });
  });
  const h = samples[0]?.height ?? 28;
  const w = samples[0]?.width ?? 28;
  const x = { scale: { domain: [0, w] }, axis: null };
  const y = { scale: { domain: [h + 7, 0] }, axis: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, subtitle: 'predicted and true label of each digit; wrong predictions in red' },
    config: { ...config, view: { stroke: null } },
    data: { values },
    facet: { field: 'i', type: 'ordinal', title: null, header: { labelExpr: "''", title: null, labelPadding: 0 } },
    columns: opts.columns ?? 8,
    spacing: 6,
    spec: {
      width: 84,
      height: 105,
      layer: [
        {
          // the black square behind each digit
          transform: [{ filter: "datum.kind === 'label'" }],
          mark: { type: 'rect', color: 'black' },
          encoding: { x: { datum: 0, type: 'quantitative', ...x }, x2: { datum: w }, y: { datum: 0, type: 'quantitative', ...y }, y2: { datum: h } },
        },
        {
          transform: [{ filter: "datum.kind === 'px'" }],
          mark: { type: 'rect' },
          encoding: {
            x: { field: 'c', type: 'quantitative', ...x },
            x2: { field: 'c2' },
            y: { field: 'r', type: 'quantitative', ...y },
            y2: { field: 'r2' },
            color: { field: 'v', type: 'quantitative', scale: { domain: [0, 1], range: ['#000000', '#ffffff'] }, legend: null },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'label' && datum.wrong" }],
          mark: { type: 'rect', fill: null, stroke: '#e0201b', strokeWidth: 3 },
          encoding: { x: { datum: 0, type: 'quantitative', ...x }, x2: { datum: w }, y: { datum: 0, type: 'quantitative', ...y }, y2: { datum: h } },
        },
        {
          transform: [{ filter: "datum.kind === 'label'" }],
          mark: { type: 'text', fontSize: 11, fontWeight: 'bold', baseline: 'middle' },
          encoding: {
            x: { datum: w / 2, type: 'quantitative', ...x },
            y: { datum: h + 3.5, type: 'quantitative', ...y },
            text: { field: 'text' },
            color: { condition: { test: 'datum.wrong', value: '#e0201b' }, value: '#222222' },
          },
        },
      ],
    },
  } as TopLevelSpec;
}

/** How many predictions and how many labels fall in each class, as grouped bars. */
export function histogramSpec(preds: ArrayLike<number>, labels: ArrayLike<number>, opts: { title: string; classNames: readonly string[] }): TopLevelSpec {
  const k = opts.classNames.length;
  const count = (xs: ArrayLike<number>) => {
    const c = new Array<number>(k).fill(0);
    for (let i = 0; i < xs.length; i++) if (xs[i]! >= 0 && xs[i]! < k) c[xs[i]!]!++;
    return c;
  };
  const p = count(preds);
  const l = count(labels);
  const values = opts.classNames.flatMap((name, i) => [
    { class: name, order: i, series: 'Predictions', count: p[i] },
    { class: name, order: i, series: 'Labels', count: l[i] },
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: opts.title, subtitle: 'how often each class is predicted, and how often it is the true label' },
    config,
    width: 520,
    height: 260,
    data: { values },
    mark: { type: 'bar', opacity: 0.85 },
    encoding: {
      x: { field: 'class', type: 'nominal', title: 'class', sort: { field: 'order' }, axis: { labelAngle: 0 } },
      xOffset: { field: 'series', sort: ['Predictions', 'Labels'] },
      y: { field: 'count', type: 'quantitative', title: 'samples' },
      color: { field: 'series', type: 'nominal', title: null, sort: ['Predictions', 'Labels'], scale: { range: ['#4c78a8', '#f58518'] }, legend: { orient: 'top' } },
      tooltip: [{ field: 'class' }, { field: 'series' }, { field: 'count' }],
    },
  } as TopLevelSpec;
}

/** Compiles a Vega-Lite spec and renders it to an SVG string, headless. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders an SVG string to PNG bytes with resvg (@resvg/resvg-js, a prebuilt native module),
 * at `scale` × its size on a white background; null when resvg is not installed.
 */
export async function svgToPng(svg: string, scale = 2): Promise<Uint8Array | null> {
  let Resvg: typeof import('@resvg/resvg-js').Resvg;
  try {
    ({ Resvg } = await import('@resvg/resvg-js'));
  } catch {
    return null;
  }
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
