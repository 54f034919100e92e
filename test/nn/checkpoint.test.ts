// Checkpoints in the safetensors format: bit-exact round trips, the byte layout of the spec
// (https://github.com/huggingface/safetensors#format), files written by the reference Python
// library, atomic writes, and clear errors on truncated or mismatched files.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, load, manualSeed, nn, optim, parseSafetensors, save, serializeSafetensors, tensor, type Tensor } from '../../src/index.node.ts';
import { useGpu } from '../helpers/gpu.ts';

useGpu();

const dir = mkdtempSync(join(tmpdir(), 'webgrad-ckpt-'));

/** The raw bits of a float32 tensor, so NaN payloads and -0 compare exactly. */
async function bits(t: Tensor): Promise<number[]> {
  const d = await t.data();
  return t.dtype === 'float32' ? [...new Uint32Array(Float32Array.from(d).buffer)] : [...d];
}

describe('round trip', () => {
  it('save → load is bit-exact for float32 (NaN, ±0, ±Inf, subnormals), int32 and bool', async () => {
    const specials = new Float32Array([Number.NaN, -0, 0, Infinity, -Infinity, 1e-45, -3.4028234663852886e38, 0.1, 1 / 3]);
    const sd: Record<string, Tensor> = {
      'fc.weight': tensor(specials, { shape: [3, 3] }),
      'fc.bias': tensor([1.5, -2.25, 1e-7]),
      scalar: tensor(3.25),
      count: tensor([7, -2147483648, 2147483647], { dtype: 'int32' }),
      mask: tensor([true, false, true, true]),
      empty: tensor(new Float32Array(0), { shape: [0, 4] }),
    };
    const path = join(dir, 'roundtrip.safetensors');
    await save(sd, path);
    const back = await load(path);
    expect(Object.keys(back)).toEqual(Object.keys(sd));
    for (const [k, t] of Object.entries(sd)) {
      expect(back[k].shape, k).toEqual(t.shape);
      expect(back[k].dtype, k).toBe(t.dtype);
      expect(await bits(back[k]), k).toEqual(await bits(t));
    }
  });

  it('a model saved and loaded into a fresh one computes the same outputs', async () => {
    manualSeed(1);
    const a = new nn.Sequential(new nn.Linear(5, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 2));
    a.call(tensor([[1, 2, 3, 4, 5], [0, 1, 0, 1, 0], [2, 2, 2, 2, 1]])); // moves the running statistics
    a.eval();
    const path = join(dir, 'model.safetensors');
    await save(a.stateDict(), path);
    const b = new nn.Sequential(new nn.Linear(5, 4), new nn.BatchNorm1d(4), new nn.ReLU(), new nn.Linear(4, 2)).eval();
    b.loadStateDict(await load(path));
    const x = tensor([[0.5, -1, 2, 0, 1]]);
    expect(await bits(b.call(x))).toEqual(await bits(a.call(x)));
    expect(await b.stateDict()['1.num_batches_tracked']!.item()).toBe(1);
  });

  it('on the CPU backend too', async () => {
    const t = tensor([0.1, 0.2, 0.3], { device: 'cpu' });
    const back = parseSafetensors(await serializeSafetensors({ t }), { device: 'cpu' }).tensors.t!;
    expect(back.device).toBe('cpu');
    // The CPU reference holds float64; a float32 file stores the float32 rounding of it.
    expect(Array.from(await back.data())).toEqual(Array.from(Float32Array.from([0.1, 0.2, 0.3])));
  });
});

describe('the format', () => {
  it('lays out header length, padded JSON header and little-endian data as the spec says', async () => {
    const bytes = await serializeSafetensors(
      { a: tensor([1, -2]), b: tensor(7, { dtype: 'int32' }), c: tensor([true, false, true]) },
      { note: 'hi' },
    );
    const json =
      '{"__metadata__":{"note":"hi"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]},' +
      '"c":{"dtype":"BOOL","shape":[3],"data_offsets":[12,15]}}';
    const n = Math.ceil(json.length / 8) * 8; // padded with spaces to a multiple of 8
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getBigUint64(0, true)).toBe(BigInt(n));
    expect(new TextDecoder().decode(bytes.subarray(8, 8 + n))).toBe(json.padEnd(n, ' '));
    expect([...bytes.subarray(8 + n)]).toEqual([
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, // 1.0f, -2.0f little-endian
      0x07, 0x00, 0x00, 0x00, // int32 7
      0x01, 0x00, 0x01, // bool: one byte each
    ]);
    expect(bytes.length).toBe(8 + n + 15);
  });

  it('webgrad files load in the reference safetensors library', async () => {
    // Checked while developing with safetensors 0.8.0 + torch 1.13:
    //   from safetensors.torch import load_file; sd = load_file('webgrad.safetensors')
    //   → {'0.weight': float32 [4, 3], '0.bias': float32 [4], 'mask': bool [2], 'n': int32 []}, values equal
    // Here: the same file's header passes the checks that library's reader applies.
    manualSeed(2);
    const m = new nn.Sequential(new nn.Linear(3, 4));
    const bytes = await serializeSafetensors({ ...m.stateDict(), mask: tensor([true, false]), n: tensor(5, { dtype: 'int32' }) });
    writeFileSync(join(dir, 'webgrad.safetensors'), bytes);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const spans = Object.values(header).map((e) => e.data_offsets).sort((x, y) => x[0] - y[0]);
    let at = 0;
    for (const [b, e] of spans) {
      expect(b).toBe(at);
      at = e;
    }
    expect(at).toBe(bytes.length - 8 - n);
    expect(n % 8).toBe(0);
  });

  it('reads a file written by PyTorch (safetensors.torch.save_file), converting I64 to int32', async () => {
    // torch.manual_seed(0); m = nn.Sequential(nn.Linear(3,2), nn.BatchNorm1d(2)); m(torch.randn(4,3))
    // sd = m.state_dict() + {'mask': tensor([True, False, True])}; save_file(sd, f, metadata={'format': 'pt'})
    const b64 =
      'IAIAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmb3JtYXQiOiJwdCJ9LCIxLm51bV9iYXRjaGVzX3RyYWNrZWQiOnsiZHR5cGUiOiJJNjQiLCJzaGFwZSI6W10sImRhdGFfb2Zmc2V0cyI6WzAsOF19LCIwLmJpYXMiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOls4LDE2XX0sIjAud2VpZ2h0Ijp7ImR0eXBlIjoiRjMyIiwic2hhcGUiOlsyLDNdLCJkYXRhX29mZnNldHMiOlsxNiw0MF19LCIxLmJpYXMiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOls0MCw0OF19LCIxLnJ1bm5pbmdfbWVhbiI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzQ4LDU2XX0sIjEucnVubmluZ192YXIiOnsiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzJdLCJkYXRhX29mZnNldHMiOls1Niw2NF19LCIxLndlaWdodCI6eyJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMl0sImRhdGFfb2Zmc2V0cyI6WzY0LDcyXX0sIm1hc2siOnsiZHR5cGUiOiJCT09MIiwic2hhcGUiOlszXSwiZGF0YV9vZmZzZXRzIjpbNzIsNzVdfX0gAQAAAAAAAABAazu8emHqPuijjbsTk54+fkvzvsmL2b6xtGO+U4kePgAAAAAAAAAAcueAvCgjaT0eJmw/SOtsPwAAgD8AAIA/AQAB';
    const path = join(dir, 'torch.safetensors');
    writeFileSync(path, Buffer.from(b64, 'base64'));
    const sd = await load(path);
    const want: Record<string, number[]> = {
      '0.weight': [-0.004322517663240433, 0.3097158372402191, -0.4751853346824646, -0.4248946011066437, -0.2223689705133438, 0.15482072532176971],
      '0.bias': [-0.011439144611358643, 0.45777493715286255],
      '1.weight': [1, 1],
      '1.bias': [0, 0],
      '1.running_mean': [-0.015735361725091934, 0.05691829323768616],
      '1.running_var': [0.9224566221237183, 0.9254651069641113],
    };
    for (const [k, v] of Object.entries(want)) expect(Array.from(await sd[k].data()), k).toEqual(v);
    expect(sd['0.weight'].shape).toEqual([2, 3]);
    expect(sd['1.num_batches_tracked'].dtype).toBe('int32');
    expect(await sd['1.num_batches_tracked'].item()).toBe(1);
    expect(await sd.mask.toArray()).toEqual([true, false, true]);
    // …and it loads straight into the same webgrad model (the extra "mask" reported, not strict).
    const m = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    expect(m.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: [], unexpectedKeys: ['mask'] });
    expect(Array.from(await m.at(0).stateDict().bias!.data())).toEqual(want['0.bias']);
    expect(parseSafetensors(readFileSync(path)).metadata).toEqual({ format: 'pt' });
  });
});

describe('errors', () => {
  const good = async () => serializeSafetensors({ w: tensor([1, 2, 3, 4]), b: tensor([5]) });

  it('truncated files say so', async () => {
    const bytes = await good();
    const path = join(dir, 'truncated.safetensors');
    for (const [cut, msg] of [
      [4, /truncated: 4 bytes, but a safetensors file starts with an 8-byte header length/],
      [40, /truncated: the header is \d+ bytes but only 32 bytes follow the length field/],
      [bytes.length - 3, /truncated: entry "b" ends at byte 20 of the data, but only 17 data bytes are present/],
    ] as const) {
      writeFileSync(path, bytes.subarray(0, cut));
      await expect(load(path)).rejects.toThrow(msg);
      await expect(load(path)).rejects.toBeInstanceOf(CheckpointError);
    }
    await expect(load(join(dir, 'missing.safetensors'))).rejects.toThrow(/load: cannot read .*missing.safetensors/);
  });

  it('mismatched or foreign files say so', async () => {
    const bytes = await good();
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    const withHeader = (h: string) => {
      const hb = new TextEncoder().encode(h);
      const out = new Uint8Array(8 + hb.length + 20);
      new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
      out.set(hb, 8);
      return out;
    };
    expect(() => parseSafetensors(new Uint8Array([...bytes, 0, 0]))).toThrow(/mismatched: the entries cover 20 data bytes but the file holds 22/);
    expect(() => parseSafetensors(withHeader(header.replace('"data_offsets":[0,16]', '"data_offsets":[0,12]')))).toThrow(/entry "w" \(F32, shape \[4\]\) needs 16 bytes but data_offsets \[0, 12\] span 12/);
    expect(() => parseSafetensors(withHeader(header.replace('"F32"', '"Q8"')))).toThrow(/entry "w" has unsupported dtype "Q8"/);
    expect(() => parseSafetensors(withHeader('[1, 2]'))).toThrow(/not a safetensors file: the 6-byte header does not start with "\{"/);
    expect(() => parseSafetensors(withHeader('{"w": '))).toThrow(/not a safetensors file: the 6-byte header is not valid UTF-8 JSON/);
    expect(() => parseSafetensors(new TextEncoder().encode('PK\u0003\u0004 this is a zip file, not a checkpoint'))).toThrow(/not a safetensors file: the header length field says \d+ bytes/);
  });
});

describe('nested checkpoints and resume', () => {
  it('model + optimizer + scheduler + epoch round-trip in one file', async () => {
    manualSeed(4);
    const model = new nn.Linear(3, 2);
    const opt = new optim.Adam(model.parameters(), { lr: 0.01, amsgrad: true });
    const sched = new optim.StepLR(opt, { stepSize: 2 });
    model.call(tensor([[1, 2, 3]])).sum().backward();
    opt.step();
    sched.step();
    const path = join(dir, 'nested.safetensors');
    await save({ model: model.stateDict(), optimizer: opt.stateDict(), scheduler: sched.stateDict(), epoch: 3, note: null }, path);
    const ck = await load(path);
    expect(Object.keys(ck)).toEqual(['model', 'optimizer', 'scheduler', 'epoch', 'note']);
    expect(ck.epoch).toBe(3);
    expect(ck.note).toBeNull();
    expect(Object.keys(ck.model)).toEqual(['weight', 'bias']);
    expect(ck.optimizer.state[0].step).toBe(1);
    expect(Object.keys(ck.optimizer.state[0])).toEqual(['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq']);
    expect(ck.optimizer.paramGroups[0]).toMatchObject({ lr: 0.01, betas: [0.9, 0.999], amsgrad: true, params: [0, 1], initialLr: 0.01 });
    expect(ck.scheduler.lastEpoch).toBe(1);
    expect(await bits(ck.optimizer.state[1].expAvgSq)).toEqual(await bits(opt.stateDict().state[1]!.expAvgSq as Tensor));
    // The tree is in the metadata; tensors are ordinary entries any reader sees.
    const raw = parseSafetensors(readFileSync(path));
    expect(Object.keys(raw.tensors)).toContain('optimizer/state/0/expAvg');
    expect(raw.metadata!['webgrad.tree']).toContain('"$tensor":"model/weight"');
  });

  it('writes atomically: no temporary left behind, and a failed save keeps the old file', async () => {
    const path = join(dir, 'atomic.safetensors');
    await save({ w: tensor([1, 2]) }, path);
    const before = readFileSync(path);
    await expect(save({ w: tensor([1]), bad: new Date() as never }, path)).rejects.toThrow(/cannot store a Date at "bad"/);
    await expect(save({ w: tensor([3, 4]) }, join(dir, 'no-such-dir', 'x.safetensors'))).rejects.toThrow(/ENOENT/);
    expect(readFileSync(path)).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
