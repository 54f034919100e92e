// A two-axis line chart on a canvas: training loss (left axis) and test accuracy (right axis,
// 0–100 %) against the step. A few dozen lines of canvas drawing instead of a chart library:
// the demo redraws it after every readback, with a few hundred points at most.

export interface ChartData {
  /** [step, mean training loss over the last logging interval]. */
  loss: [number, number][];
  /** [step, accuracy in 0..1 on the held-out digits]. */
  accuracy: [number, number][];
  /** Where the x axis ends (the planned number of steps, or more once passed). */
  maxStep: number;
}

const COLORS = { loss: '#d9480f', acc: '#1c7ed6', grid: '#e9ecef', text: '#495057' };

/** Draws `d` on `canvas` (its own pixel size, scaled for the device pixel ratio by CSS). */
export function drawChart(canvas: HTMLCanvasElement, d: ChartData): void {
  const ctx = canvas.getContext('2d')!;
  const W = canvas.width;
  const H = canvas.height;
  const pad = { l: 48, r: 52, t: 24, b: 30 };
  const pw = W - pad.l - pad.r;
  const ph = H - pad.t - pad.b;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, W, H);
  ctx.font = '12px system-ui, sans-serif';

  const maxStep = Math.max(1, d.maxStep, ...d.loss.map((p) => p[0]), ...d.accuracy.map((p) => p[0]));
  const maxLoss = niceCeil(Math.max(0.5, ...d.loss.map((p) => p[1])));
  const x = (s: number) => pad.l + (s / maxStep) * pw;
  const yLoss = (v: number) => pad.t + ph - (Math.min(v, maxLoss) / maxLoss) * ph;
  const yAcc = (a: number) => pad.t + ph - a * ph;

  // Grid and axes: 5 horizontal lines shared by both axes.
  ctx.strokeStyle = COLORS.grid;
  ctx.lineWidth = 1;
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const yy = pad.t + (ph * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad.l, yy);
    ctx.lineTo(pad.l + pw, yy);
    ctx.stroke();
    ctx.fillStyle = COLORS.loss;
    ctx.textAlign = 'right';
    ctx.fillText(fmt(maxLoss * (1 - i / 4)), pad.l - 6, yy);
    ctx.fillStyle = COLORS.acc;
    ctx.textAlign = 'left';
    ctx.fillText(`${100 - 25 * i}%`, pad.l + pw + 6, yy);
  }
  ctx.fillStyle = COLORS.text;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let i = 0; i <= 5; i++) {
    const s = Math.round((maxStep * i) / 5);
    ctx.fillText(String(s), x(s), pad.t + ph + 6);
  }
  ctx.textAlign = 'right';
  ctx.fillText('step', pad.l + pw, pad.t + ph + 18 > H - 12 ? H - 12 : pad.t + ph + 18);

  line(ctx, d.loss.map(([s, v]) => [x(s), yLoss(v)]), COLORS.loss);
  line(ctx, d.accuracy.map(([s, a]) => [x(s), yAcc(a)]), COLORS.acc, true);

  // Legend with the latest values.
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const lastLoss = d.loss.at(-1)?.[1];
  const lastAcc = d.accuracy.at(-1)?.[1];
  legend(ctx, pad.l + 8, 12, COLORS.loss, `training loss${lastLoss === undefined ? '' : ` ${lastLoss.toFixed(3)}`}`);
  legend(ctx, pad.l + 190, 12, COLORS.acc, `test accuracy${lastAcc === undefined ? '' : ` ${(100 * lastAcc).toFixed(1)}%`}`);
}

function line(ctx: CanvasRenderingContext2D, pts: [number, number][], color: string, dots = false): void {
  if (!pts.length) return;
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.beginPath();
  pts.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
  ctx.stroke();
  if (dots) {
    ctx.fillStyle = color;
    for (const [px, py] of pts) {
      ctx.beginPath();
      ctx.arc(px, py, 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}

function legend(ctx: CanvasRenderingContext2D, x: number, y: number, color: string, text: string): void {
  ctx.fillStyle = color;
  ctx.fillRect(x, y - 2, 16, 4);
  ctx.fillStyle = COLORS.text;
  ctx.fillText(text, x + 22, y);
}

/** The smallest axis top ≥ v whose quarters are round numbers (0.6, 1.2, 2.4, 5, …). */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.6, 2, 2.4, 3, 4, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return String(Number(v.toPrecision(3)));
}
