// The `webgrad` command, run as a subprocess through bin/webgrad.mjs: help, errors for an
// unknown recipe and a missing data folder, and one short training run whose output folder
// holds metrics.json, a checkpoint that `webgrad eval` reads back, and the three plots as
// well-formed SVG (with the marks each plot should draw) and PNG.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '../bin/webgrad.mjs');

function webgrad(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 110_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Counts the `path`/`text` elements under each vega mark group (`rect/mark:path` → bars …). */
function svgMarks(svg: string): Record<string, number> {
  expect(XMLValidator.validate(svg)).toBe(true);
  const tree = new XMLParser({ ignoreAttributes: false, preserveOrder: true }).parse(svg) as Record<string, unknown>[];
  const counts: Record<string, number> = {};
  const walk = (nodes: Record<string, unknown>[], mark: string) => {
    for (const n of nodes) {
      const tag = Object.keys(n).find((k) => k !== ':@')!;
      const cls = ((n[':@'] as Record<string, string> | undefined)?.['@_class'] ?? '').match(/mark-(\w+) role-(\w+)/);
      const m = cls ? `${cls[1]}/${cls[2]}` : mark;
      if (tag === 'path' || tag === 'text') counts[`${m}:${tag}`] = (counts[`${m}:${tag}`] ?? 0) + 1;
      if (Array.isArray(n[tag])) walk(n[tag] as Record<string, unknown>[], m);
    }
  };
  walk(tree, '');
  return counts;
}

function expectPng(file: string): void {
  const bytes = readFileSync(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.length).toBeGreaterThan(10_000);
}

describe('webgrad CLI', () => {
  it('--help explains the commands, and train --help every option and recipe', () => {
    const top = webgrad('--help');
    expect(top.code).toBe(0);
    for (const w of ['train', 'eval', 'recipes']) expect(top.stdout).toContain(w);
    const train = webgrad('train', '--help');
    expect(train.code).toBe(0);
    for (const w of ['--data', '--epochs', '--batch-size', '--lr', '--seed', '--limit', '--save', '--resume', '--out', '000', '001-tiny', '001-pool', '002-scratch', '002-modules', '003-linear', '003-two-layer', '004']) {
      expect(train.stdout).toContain(w);
    }
  });

  it('an unknown recipe fails with the list of valid ones', () => {
    const r = webgrad('train', '005');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown recipe "005"');
    expect(r.stderr).toContain('000, 001-tiny, 001-pool, 002-scratch, 002-modules, 003-linear, 003-two-layer, 004');
  });

  it('a missing data folder fails before training, naming the folder and the fix', () => {
    const r = webgrad('train', '000', '--data', '/no/such/mnist');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('data folder "/no/such/mnist" does not exist');
    expect(r.stderr).toContain('train-images-idx3-ubyte');
  });

  it('train writes metrics.json, a checkpoint and the three plots; eval reads the checkpoint back', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'webgrad-cli-')), 'run');
    const r = webgrad('train', '004', '--epochs', '2', '--limit', '320', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Epoch: 2, Loss:');

    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.recipe).toBe('004');
    expect(m.hyperparameters).toMatchObject({ epochs: 2, batchSize: 64, lr: 0.001, seed: 0, limit: 320 });
    expect(m.epochs).toHaveLength(2);
    for (const e of m.epochs) {
      for (const k of ['trainLoss', 'evalLoss', 'evalAccuracy', 'seconds']) expect(Number.isFinite(e[k]), k).toBe(true);
    }
    expect(m.epochs[1].trainLoss).toBeLessThan(m.epochs[0].trainLoss);
    expect(m.final.count).toBe(320);

    const curves = svgMarks(readFileSync(join(out, 'curves.svg'), 'utf8'));
    expect(curves['line/mark:path']).toBe(3); // training loss, test loss, test accuracy
    expect(curves['symbol/mark:path']).toBe(6); // one point per epoch on each line
    const samples = svgMarks(readFileSync(join(out, 'samples.svg'), 'utf8'));
    expect(samples['text/mark:text']).toBe(24); // 24 digits, each captioned "pred P · true T"
    expect(samples['rect/mark:path']).toBeGreaterThan(24 * 50); // their pixels
    const histogram = svgMarks(readFileSync(join(out, 'histogram.svg'), 'utf8'));
    expect(histogram['rect/mark:path']).toBe(20); // predictions and labels for 10 classes
    for (const name of ['curves', 'samples', 'histogram']) expectPng(join(out, `${name}.png`));

    const ck = join(out, 'checkpoint.safetensors');
    expect(existsSync(ck) && statSync(ck).size > 100_000).toBe(true);
    const ev = webgrad('eval', ck, '--limit', '320');
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toContain(`(${m.final.correct}/320)`);
  });
});
