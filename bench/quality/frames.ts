// Frame helpers for the quality bench: I420 (what the cascade outputs) -> RGB for face-api, thumbnails, and the
// contact sheet.
import sharp from 'sharp';

/** BT.601 limited range I420 -> interleaved RGB (the inverse of the render graph's conversion). */
export function i420ToRgb(i420: Uint8Array, width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  const uOff = width * height;
  const vOff = uOff + (width * height) / 4;
  const cw = width / 2;
  const clip = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const Y = 1.164 * (i420[y * width + x] - 16);
      const c = (y >> 1) * cw + (x >> 1);
      const U = i420[uOff + c] - 128;
      const V = i420[vOff + c] - 128;
      const o = 3 * (y * width + x);
      rgb[o] = clip(Y + 1.596 * V);
      rgb[o + 1] = clip(Y - 0.392 * U - 0.813 * V);
      rgb[o + 2] = clip(Y + 2.017 * U);
    }
  }
  return rgb;
}

/** A side x side RGB thumbnail of the frame, or of a square region of it. */
export async function thumbnail(rgb: Uint8Array, width: number, height: number, side: number, region?: { x: number; y: number; size: number }): Promise<Uint8Array> {
  let img = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (region) {
    const size = Math.round(Math.min(region.size, width, height));
    const left = Math.round(Math.min(Math.max(region.x, 0), width - size));
    const top = Math.round(Math.min(Math.max(region.y, 0), height - size));
    img = img.extract({ left, top, width: size, height: size });
  }
  const { data } = await img.resize(side, side).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export interface SheetTile {
  /** side x side RGB. */
  readonly rgb: Uint8Array;
  readonly label: string;
}

/** Tiles in rows, each with a caption under it, as a PNG. */
export async function contactSheet(rows: readonly (readonly SheetTile[])[], side: number, out: string): Promise<void> {
  const caption = 18;
  const cols = Math.max(...rows.map((r) => r.length));
  const W = cols * side;
  const H = rows.length * (side + caption);
  const layers: sharp.OverlayOptions[] = [];
  rows.forEach((row, r) =>
    row.forEach((tile, c) => {
      layers.push({ input: Buffer.from(tile.rgb.buffer, tile.rgb.byteOffset, tile.rgb.byteLength), raw: { width: side, height: side, channels: 3 }, left: c * side, top: r * (side + caption) });
      const esc = tile.label.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      const svg = `<svg width="${side}" height="${caption}" xmlns="http://www.w3.org/2000/svg"><rect width="100%" height="100%" fill="#111"/><text x="4" y="13" font-family="sans-serif" font-size="11" fill="#eee">${esc}</text></svg>`;
      layers.push({ input: Buffer.from(svg), left: c * side, top: r * (side + caption) + side });
    }),
  );
  await sharp({ create: { width: W, height: H, channels: 3, background: '#000' } }).composite(layers).png().toFile(out);
}
