// Test pictures made from the shipped portrait.
import sharp from 'sharp';

/** Two people side by side on grey (1024x512): the portrait (512x512) and its mirror image. Pick the format. */
export async function twoPeople(portrait: Buffer): Promise<sharp.Sharp> {
  const left = await sharp(portrait).removeAlpha().toBuffer();
  const right = await sharp(portrait).removeAlpha().flop().toBuffer();
  return sharp({ create: { width: 1024, height: 512, channels: 3, background: '#808080' } }).composite([
    { input: left, left: 0, top: 0 },
    { input: right, left: 512, top: 0 },
  ]);
}
