// The demo page: trains tutorial 004's MLP on a few thousand real MNIST digits with webgrad on
// the page's WebGPU device, charts loss and held-out accuracy live, then classifies digits drawn
// on a canvas. Built by scripts/build-browser.ts into dist/browser/demo.js, where the import of
// '../src/index.ts' becomes './webgrad.js' (the library bundle); served by scripts/demo-server.ts.
// URL parameters: ?epochs=10 (or ?steps=N) when to stop, ?autostart=0 to wait for the Train
// button, ?seed=0. `window.webgradDemo` exposes the state to test/browser/demo.e2e.ts.

import { DeviceError, adapterInfo, data, init, manualSeed, memory, nn, noGrad, optim, scope, stack, tensor, type Tensor } from '../src/index.ts';
import { drawChart } from './chart.ts';
import { toMnist } from './digit.ts';

const BATCH_SIZE = 64;
const LEARNING_RATE = 1e-3;
/** Steps between loss readbacks: each read waits for the GPU, so not every step. */
const LOG_EVERY = 10;
/** Steps between evaluations on the held-out digits. */
const EVAL_EVERY = 50;

/** Tutorial 004's network, as written there (three Linear layers, ReLU between them). */
class NeuralNet extends nn.Module {
  inputLayer: nn.Linear;
  hiddenLayer: nn.Linear;
  outputLayer: nn.Linear;
  relu: nn.ReLU;
  constructor() {
    super();
    this.inputLayer = new nn.Linear(28 * 28, 128);
    this.hiddenLayer = new nn.Linear(128, 128);
    this.outputLayer = new nn.Linear(128, 10);
    this.relu = new nn.ReLU();
  }

  override forward(x: Tensor): Tensor {
    x = this.inputLayer.call(x);
    x = this.relu.call(x);
    x = this.hiddenLayer.call(x);
    x = this.relu.call(x);
    return this.outputLayer.call(x);
  }
}

/** What the page shows, readable by tests as `window.webgradDemo.state`. */
export interface DemoState {
  phase: 'starting' | 'unsupported' | 'loading' | 'ready' | 'training' | 'paused' | 'done' | 'error';
  error: string | null;
  adapter: string | null;
  dataSource: string | null;
  trainCount: number;
  testCount: number;
  step: number;
  maxSteps: number;
  epoch: number;
  /** [step, mean training loss of the last LOG_EVERY steps]. */
  loss: [number, number][];
  /** [step, accuracy on the held-out digits]. */
  accuracy: [number, number][];
  batchesPerSecond: number | null;
  /** [step, memory().liveTensors] after each readback: flat when nothing leaks. */
  liveTensors: [number, number][];
  /** The last drawn digit's class and the 10 probabilities. */
  prediction: { digit: number; probs: number[] } | null;
  /** Bumped after every prediction (tests wait for it to change). */
  predictions: number;
}

declare global {
  interface Window {
    webgradDemo: { state: DemoState; ready: Promise<void>; start(): void; pause(): void; predictions(): Promise<void> };
  }
}

const params = new URLSearchParams(location.search);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: DemoState = {
  phase: 'starting', error: null, adapter: null, dataSource: null, trainCount: 0, testCount: 0,
  step: 0, maxSteps: 0, epoch: 0, loss: [], accuracy: [], batchesPerSecond: null, liveTensors: [],
  prediction: null, predictions: 0,
};

let model: NeuralNet;
let optimizer: optim.Adam;
const criterion = new nn.CrossEntropyLoss();
let loader: data.DataLoader<[data.HostTensor, number], [Tensor, Tensor]>;
let epochIter: AsyncIterator<[Tensor, Tensor]> | null = null;
let testX: Tensor;
let testY: Tensor;
let running = false;

function status(text: string, error = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

/** Opens the device; on failure shows what to enable and returns false. */
async function openDevice(): Promise<boolean> {
  let reason: string | null = null;
  if (!window.isSecureContext) reason = `This page is not a secure context (${location.origin}), so the browser hides WebGPU.`;
  else if (!('gpu' in navigator)) reason = 'This browser has no WebGPU: navigator.gpu is undefined.';
  else {
    try {
      await init();
      return true;
    } catch (e) {
      reason = e instanceof DeviceError && /no WebGPU adapter/.test(e.message)
        ? 'The browser has WebGPU, but it offered no adapter (navigator.gpu.requestAdapter() returned null): WebGPU is disabled or blocked for this GPU.'
        : (e as Error).message;
    }
  }
  state.phase = 'unsupported';
  state.error = reason;
  $('unsupported-reason').textContent = reason;
  $('unsupported').hidden = false;
  $('app').hidden = true;
  status('WebGPU is unavailable: see below for what to enable.', true);
  return false;
}

/** Fetches one of the gzipped IDX files that scripts/build-browser.ts exported. */
async function fetchIdx(name: string): Promise<Uint8Array> {
  const res = await fetch(`data/${name}`);
  if (!res.ok) throw new Error(`data/${name}: HTTP ${res.status} (run \`npm run demo\`, which exports the digits)`);
  // DecompressionStream('gzip') inside data.gunzipIdx, bounded by the IDX header; parseIdx runs in MNIST's constructor.
  return data.gunzipIdx(new Uint8Array(await res.arrayBuffer()), name);
}

async function loadData(): Promise<void> {
  state.phase = 'loading';
  status(`WebGPU adapter: ${adapterInfo()} · loading digits…`);
  const [trImg, trLbl, teImg, teLbl, source] = await Promise.all([
    fetchIdx('train-images-idx3-ubyte.gz'), fetchIdx('train-labels-idx1-ubyte.gz'),
    fetchIdx('t10k-images-idx3-ubyte.gz'), fetchIdx('t10k-labels-idx1-ubyte.gz'),
    fetch('data/SOURCE.txt').then((r) => (r.ok ? r.text() : 'unknown')),
  ]);
  const train = new data.MNIST({ files: { images: trImg, labels: trLbl }, transform: new data.ToTensor() });
  const test = new data.MNIST({ files: { images: teImg, labels: teLbl }, train: false });
  loader = new data.DataLoader(train, { batchSize: BATCH_SIZE, shuffle: true });
  // The held-out digits stay on the GPU as one [n, 784] batch for the accuracy checks.
  const pixels = new Float32Array(test.images.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = test.images[i]! / 255;
  testX = tensor(pixels, { shape: [test.length, 784] });
  testY = tensor(Int32Array.from(test.labels));
  state.trainCount = train.length;
  state.testCount = test.length;
  state.dataSource = source.trim();
  const steps = Number(params.get('steps')) || Number(params.get('epochs') ?? 10) * loader.length;
  state.maxSteps = steps;
  $('data-info').textContent = `${train.length} training digits, ${test.length} held out · ${steps} steps (${(steps / loader.length).toFixed(1)} epochs)`;
}

function newModel(): void {
  optimizer?.zeroGrad();
  optimizer?.dispose();
  model?.dispose();
  manualSeed(Number(params.get('seed') ?? 0));
  model = new NeuralNet();
  optimizer = new optim.Adam(model.parameters(), { lr: LEARNING_RATE });
  state.step = 0;
  state.epoch = 0;
  state.loss = [];
  state.accuracy = [];
  state.liveTensors = [];
  state.batchesPerSecond = null;
}

/** Accuracy of the model on the held-out digits (one forward pass, one readback). */
async function evaluate(): Promise<void> {
  const acc = noGrad(() => scope(() => {
    model.eval();
    const hits = model.call(testX).argmax(1).eq(testY).float().mean();
    model.train();
    return hits;
  }));
  state.accuracy.push([state.step, await acc.item()]);
  acc.dispose();
}

function render(): void {
  drawChart($<HTMLCanvasElement>('chart'), { loss: state.loss, accuracy: state.accuracy, maxStep: state.maxSteps });
  $('s-step').textContent = String(state.step);
  $('s-epoch').textContent = (state.step / loader.length).toFixed(2);
  $('s-loss').textContent = state.loss.at(-1)?.[1].toFixed(3) ?? '–';
  const acc = state.accuracy.at(-1);
  $('s-acc').textContent = acc ? `${(100 * acc[1]).toFixed(1)}%` : '–';
  $('s-rate').textContent = state.batchesPerSecond?.toFixed(1) ?? '–';
  $('s-mem').textContent = String(state.liveTensors.at(-1)?.[1] ?? memory().liveTensors);
  $<HTMLButtonElement>('train').textContent = running ? 'Pause' : state.step >= state.maxSteps ? 'Train more' : state.step ? 'Resume' : 'Train';
  $<HTMLButtonElement>('reset').disabled = running;
}

/** The training loop of tutorial 004; runs until paused or maxSteps. */
async function trainLoop(): Promise<void> {
  running = true;
  state.phase = 'training';
  render();
  const pending: Tensor[] = [];
  let t0 = performance.now();
  let stepsSinceRead = 0;
  try {
    while (running && state.step < state.maxSteps) {
      epochIter ??= loader[Symbol.asyncIterator]();
      const next = await epochIter.next();
      if (next.done) {
        epochIter = null;
        state.epoch++;
        continue;
      }
      const [images, labels] = next.value;
      const loss = scope(() => {
        const preds = model.call(images.view(images.shape[0]!, -1)); // flatten images
        const l = criterion.call(preds, labels);
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        return l.detach();
      });
      images.dispose();
      labels.dispose();
      pending.push(loss);
      state.step++;
      stepsSinceRead++;
      const last = state.step >= state.maxSteps || !running;
      if (state.step % LOG_EVERY === 0 || last) {
        // One readback for the whole interval (stack on the GPU, read once).
        const losses = stack(pending);
        const values = Array.from(await losses.data());
        losses.dispose();
        for (const t of pending.splice(0)) t.dispose();
        state.loss.push([state.step, values.reduce((a, b) => a + b, 0) / values.length]);
        const rate = (1000 * stepsSinceRead) / (performance.now() - t0);
        state.batchesPerSecond = state.batchesPerSecond === null ? rate : 0.7 * state.batchesPerSecond + 0.3 * rate;
        if (state.step % EVAL_EVERY === 0 || last) await evaluate();
        state.liveTensors.push([state.step, memory().liveTensors]);
        render();
        t0 = performance.now();
        stepsSinceRead = 0;
      }
    }
    state.phase = state.step >= state.maxSteps ? 'done' : 'paused';
  } catch (e) {
    state.phase = 'error';
    state.error = `${(e as Error).name}: ${(e as Error).message}`;
    status(`Training failed: ${state.error}`, true);
    console.error(e);
  } finally {
    for (const t of pending) t.dispose();
    running = false;
    render();
  }
}

function start(): void {
  if (running || state.phase === 'unsupported' || state.phase === 'error') return;
  if (state.step >= state.maxSteps) state.maxSteps += Math.max(state.maxSteps, loader.length);
  void trainLoop();
}

function pause(): void {
  running = false;
}

// ---- drawing pad -------------------------------------------------------------------------

const pad = $<HTMLCanvasElement>('pad');
const padCtx = pad.getContext('2d', { willReadFrequently: true })!;
let drawing = false;
let last: [number, number] | null = null;
let predicting: Promise<void> | null = null;
let dirty = false;
const predictionWaiters: (() => void)[] = [];

function padPoint(e: PointerEvent): [number, number] {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
}

function strokeTo(p: [number, number]): void {
  padCtx.strokeStyle = '#fff';
  padCtx.fillStyle = '#fff';
  padCtx.lineWidth = 20;
  padCtx.lineCap = 'round';
  padCtx.lineJoin = 'round';
  padCtx.beginPath();
  if (last) {
    padCtx.moveTo(...last);
    padCtx.lineTo(...p);
    padCtx.stroke();
  } else {
    padCtx.arc(p[0], p[1], padCtx.lineWidth / 2, 0, 2 * Math.PI);
    padCtx.fill();
  }
  last = p;
}

pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = null;
  pad.setPointerCapture(e.pointerId);
  strokeTo(padPoint(e));
  schedulePrediction();
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  strokeTo(padPoint(e));
  schedulePrediction();
});
const endStroke = () => {
  if (!drawing) return;
  drawing = false;
  last = null;
  schedulePrediction();
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);

$('clear').addEventListener('click', () => {
  padCtx.clearRect(0, 0, pad.width, pad.height);
  $<HTMLCanvasElement>('preview').getContext('2d')!.clearRect(0, 0, 28, 28);
  state.prediction = null;
  showPrediction();
});

/** Runs a prediction now, or once the one in flight is done (never two at a time). */
function schedulePrediction(): void {
  if (predicting) {
    dirty = true;
    return;
  }
  predicting = predictDrawing().finally(() => {
    predicting = null;
    if (dirty) {
      dirty = false;
      schedulePrediction();
    } else {
      for (const w of predictionWaiters.splice(0)) w();
    }
  });
}

/** The pad's ink, made MNIST-like (digit.ts), through the model: class and probabilities. */
async function predictDrawing(): Promise<void> {
  if (!model) return;
  const rgba = padCtx.getImageData(0, 0, pad.width, pad.height).data;
  const ink = new Float32Array(pad.width * pad.height);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i]! * (rgba[4 * i + 3]! / 255);
  const pixels = toMnist(ink, pad.width, pad.height);
  if (!pixels) return;
  const preview = $<HTMLCanvasElement>('preview').getContext('2d')!;
  const img = preview.createImageData(28, 28);
  pixels.forEach((v, i) => img.data.set([255 * v, 255 * v, 255 * v, 255], 4 * i));
  preview.putImageData(img, 0, 0);

  const probs = noGrad(() => scope(() => {
    model.eval();
    const p = model.call(tensor(pixels, { shape: [1, 784] })).softmax(1);
    model.train();
    return p;
  }));
  const values = Array.from(await probs.data());
  probs.dispose();
  let digit = 0;
  values.forEach((v, i) => (v > values[digit]! ? (digit = i) : 0));
  state.prediction = { digit, probs: values };
  state.predictions++;
  showPrediction();
}

function showPrediction(): void {
  const p = state.prediction;
  $('guess').textContent = p ? String(p.digit) : '?';
  const list = $('probs');
  list.replaceChildren(...Array.from({ length: 10 }, (_, d) => {
    const li = document.createElement('li');
    const v = p?.probs[d] ?? 0;
    if (p && d === p.digit) li.className = 'best';
    const label = document.createElement('span');
    label.textContent = String(d);
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.width = `${(100 * v).toFixed(1)}%`;
    const pct = document.createElement('span');
    pct.textContent = p ? `${(100 * v).toFixed(1)}%` : '';
    li.append(label, bar, pct);
    return li;
  }));
}

// ---- start-up ----------------------------------------------------------------------------

async function main(): Promise<void> {
  showPrediction();
  if (!(await openDevice())) return;
  state.adapter = adapterInfo();
  await loadData();
  newModel();
  await evaluate(); // the untrained network: about 10 %, chance
  state.liveTensors.push([0, memory().liveTensors]);
  state.phase = 'ready';
  status(`WebGPU adapter: ${state.adapter} · data: ${state.dataSource}`);
  const trainBtn = $<HTMLButtonElement>('train');
  trainBtn.disabled = false;
  trainBtn.addEventListener('click', () => (running ? pause() : start()));
  const resetBtn = $<HTMLButtonElement>('reset');
  resetBtn.addEventListener('click', async () => {
    if (running) return;
    await epochIter?.return?.();
    epochIter = null;
    newModel();
    await evaluate();
    state.phase = 'ready';
    render();
  });
  render();
  if (params.get('autostart') !== '0') start();
}

window.webgradDemo = {
  state,
  ready: main().catch((e) => {
    state.phase = 'error';
    state.error = `${(e as Error).name}: ${(e as Error).message}`;
    status(`The demo failed to start: ${state.error}`, true);
    throw e;
  }),
  start,
  pause,
  /** Resolves once no prediction is in flight or queued. */
  predictions: () => (predicting ? new Promise<void>((r) => predictionWaiters.push(r)) : Promise.resolve()),
};
