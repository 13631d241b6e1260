// Starts a worker thread on a TypeScript module: Node cannot load .ts in a worker by itself, so the worker first
// registers tsx's loader, then imports the module (which checks workerData to know it is the worker side).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';

export interface ModuleWorkerOptions {
  readonly workerData?: unknown;
  readonly resourceLimits?: ResourceLimits;
}

export function startModuleWorker(moduleUrl: string, opts: ModuleWorkerOptions = {}): Worker {
  const require = createRequire(import.meta.url);
  const tsx = pathToFileURL(require.resolve('tsx/esm/api')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(moduleUrl)}); })`;
  return new Worker(boot, { eval: true, workerData: opts.workerData, resourceLimits: opts.resourceLimits });
}
