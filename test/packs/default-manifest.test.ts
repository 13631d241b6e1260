import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COEFFICIENTS, RENDER_OPSET } from '../../src/packs/default/index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'models/default/manifest.json'), 'utf8')) as {
  name: string;
  runtime: { opset: number };
  coefficients: Array<{ name: string; min: number; max: number; neutral: number }>;
  stages: Record<string, { enabled: boolean }>;
  weights: Array<{ path: string; files: string[]; license: string }>;
};

describe('default pack manifest', () => {
  it('lists the coefficients in the order and ranges the code uses', () => {
    expect(manifest.name).toBe('default');
    expect(manifest.coefficients).toEqual(COEFFICIENTS.map(({ name, min, max, neutral }) => ({ name, min, max, neutral })));
    expect(manifest.runtime.opset).toBe(RENDER_OPSET);
  });

  it('declares the four stages, super-resolution off', () => {
    expect(Object.keys(manifest.stages).sort()).toEqual(['blueprint', 'fill', 'refine', 'sr']);
    expect(manifest.stages.sr!.enabled).toBe(false);
    expect(manifest.stages.fill!.enabled).toBe(true);
  });

  it('points at weight files that are installed', () => {
    for (const w of manifest.weights) {
      expect(w.license).toBe('MIT');
      for (const f of w.files) expect(fs.existsSync(path.join(root, w.path, f))).toBe(true);
    }
  });
});
