// Loads uWebSockets.js and refuses the package's silent pure-JS fallback: facecast needs
// the native build, which exists for Node 16/18/20 on this platform.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UwsTypes from 'uWebSockets.js';

const require = createRequire(import.meta.url);

export type Uws = typeof UwsTypes;

export function loadUws(): Uws {
  const uws = require('uWebSockets.js') as Uws;
  const binary = join(dirname(require.resolve('uWebSockets.js')), '..', 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  let native: unknown;
  try {
    native = require(binary);
  } catch {
    throw new Error(`uWebSockets.js has no native build for Node ${process.version} on ${process.platform}-${process.arch}; facecast needs Node 20 (see package.json engines)`);
  }
  if (native !== uws) throw new Error('uWebSockets.js loaded its JavaScript fallback; facecast needs the native build (Node 20)');
  return uws;
}
