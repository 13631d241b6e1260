import { describe, expect, it } from 'vitest';
import { IvfParseError } from '../../src/media/errors.ts';
import { IvfParser, writeIvf } from '../../src/media/ivf.ts';

const header = { fourcc: 'VP80', width: 512, height: 512, timebaseDen: 25, timebaseNum: 1 };

describe('IVF', () => {
  it('parses a written file fed one byte at a time', () => {
    const frames = [0, 1, 2].map((i) => ({ pts: BigInt(i), data: Buffer.alloc(10 + i * 100, i + 1) }));
    const file = writeIvf(header, frames);
    const parser = new IvfParser();
    const out = [];
    for (let i = 0; i < file.length; i++) out.push(...parser.push(file.subarray(i, i + 1)));
    expect(parser.header).toEqual({ ...header, frameCount: 3 });
    expect(out.map((f) => f.pts)).toEqual([0n, 1n, 2n]);
    expect(out.map((f) => f.data)).toEqual(frames.map((f) => f.data));
    expect(parser.bufferedBytes).toBe(0);
  });

  it('parses a whole file in one push', () => {
    const file = writeIvf(header, [{ pts: 7, data: Buffer.from([1, 2, 3]) }]);
    const out = new IvfParser().push(file);
    expect(out).toEqual([{ pts: 7n, data: Buffer.from([1, 2, 3]) }]);
  });

  it('rejects a stream that is not IVF or is out of step', () => {
    expect(() => new IvfParser().push(Buffer.alloc(32))).toThrow(IvfParseError);
    const file = writeIvf(header, []);
    const bogus = Buffer.concat([file, Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(8)]);
    expect(() => new IvfParser().push(bogus)).toThrow(/exceeds/);
  });
});
