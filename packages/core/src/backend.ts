import * as tf from '@tensorflow/tfjs-core';
import { shareWasmIdentity } from './kernels/wasm-identity';
import { routeFlaggedWasmMatMul } from './gemm';

/** A backend tfjs-losses knows how to start. */
export type BackendName = 'webgpu' | 'wasm' | 'cpu';

/** What {@link setupBackend} chose, and why it passed over the others. */
export interface BackendReport {
  /** The backend now active (`tf.getBackend()`). */
  backend: BackendName;
  /** `'browser'` or `'node'`. */
  platform: 'browser' | 'node';
  /** For WebGPU: the adapter's vendor, architecture and description, as reported. */
  adapter?: { vendor: string; architecture: string; description: string };
  /** Backends tried before the chosen one, each with the reason it did not start. */
  skipped: { backend: BackendName; reason: string }[];
}

/** Options of {@link setupBackend}. */
export interface SetupBackendOptions {
  /** Where the wasm backend finds its `.wasm` files in a browser (passed to `setWasmPaths`). */
  wasmPaths?: string | Record<string, string>;
  /** Dawn toggles for Node WebGPU; default `['backend=opengles']` (see WEBGPU.md). */
  dawnFlags?: string[];
}

const DEFAULT_ORDER: BackendName[] = ['webgpu', 'wasm', 'cpu'];
let lastAdapter: BackendReport['adapter'];

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

// A specifier held in a variable keeps bundlers from resolving optional packages.
async function optionalImport<T>(specifier: string): Promise<T> {
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as T;
}

type GpuLike = {
  requestAdapter(o?: Record<string, unknown>): Promise<GpuAdapterLike | null>;
};
type GpuAdapterLike = {
  limits: Record<string, number>;
  info?: { vendor?: string; architecture?: string; description?: string };
  requestDevice(o?: Record<string, unknown>): Promise<unknown>;
};

// Limits tfjs's shaders need raised to what the adapter offers (WEBGPU.md).
const RAISED_LIMITS = [
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
];

async function startNodeWebGPU(options: SetupBackendOptions): Promise<void> {
  let mod: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    mod = await optionalImport('webgpu');
  } catch (e) {
    throw new Error(`the optional package "webgpu" (Dawn for Node) is not installed or failed to load: ${(e as Error).message}`);
  }
  const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
  // Mesa's EGL needs a platform without a display on headless machines.
  env.EGL_PLATFORM ??= 'surfaceless';
  Object.assign(globalThis, mod.globals);
  const gpu = mod.create(options.dawnFlags ?? ['backend=opengles']);
  const adapter =
    (await gpu.requestAdapter({ featureLevel: 'compatibility' })) ?? (await gpu.requestAdapter());
  if (!adapter) {
    throw new Error('Dawn returned no WebGPU adapter (on a GPU-less Linux machine install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)');
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) if (typeof adapter.limits[k] === 'number') requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits });
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (!g.navigator.gpu) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  }
  const webgpuBackend = await import('@tensorflow/tfjs-backend-webgpu');
  const info = adapter.info ?? {};
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend(
    'webgpu',
    () => new webgpuBackend.WebGPUBackend(device as GPUDevice, info as GPUAdapterInfo),
    3,
  );
  lastAdapter = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
  };
}

async function startBrowserWebGPU(): Promise<void> {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (!nav?.gpu) throw new Error('navigator.gpu is missing: this browser does not expose WebGPU');
  await import('@tensorflow/tfjs-backend-webgpu');
  const adapter = await nav.gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned no adapter');
  const info = adapter.info ?? {};
  lastAdapter = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
  };
}

async function prepare(name: BackendName, options: SetupBackendOptions): Promise<void> {
  if (name === 'cpu') {
    await optionalImport('@tensorflow/tfjs-backend-cpu').catch((e: Error) => {
      if (!tf.findBackendFactory('cpu')) throw new Error(`@tensorflow/tfjs-backend-cpu is not installed: ${e.message}`);
    });
    return;
  }
  if (name === 'wasm') {
    type WasmModule = { setWasmPaths(p: string | Record<string, string>): void };
    let wasm: WasmModule;
    try {
      wasm = await optionalImport<WasmModule>('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      if (tf.findBackendFactory('wasm')) return;
      throw new Error(`@tensorflow/tfjs-backend-wasm is not installed: ${(e as Error).message}`);
    }
    if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
    return;
  }
  if (isNode()) await startNodeWebGPU(options);
  else await startBrowserWebGPU();
}

/**
 * Starts the first backend of `preference` that works and makes it current.
 * The default order is webgpu, wasm, cpu. In Node, WebGPU comes from the
 * optional `webgpu` package (Dawn) on Mesa's software OpenGL ES when there
 * is no GPU. With a single name, failure to start it is an error saying why;
 * with a list, failures are recorded in the report's `skipped`.
 */
export async function setupBackend(
  preference: BackendName | BackendName[] = DEFAULT_ORDER,
  options: SetupBackendOptions = {},
): Promise<BackendReport> {
  const order = typeof preference === 'string' ? [preference] : preference;
  const skipped: BackendReport['skipped'] = [];
  for (const name of order) {
    if (!DEFAULT_ORDER.includes(name)) {
      throw new Error(`setupBackend: unknown backend ${JSON.stringify(name)}; expected one of ${DEFAULT_ORDER.join(', ')}.`);
    }
    try {
      if (tf.getBackend() !== name) {
        await prepare(name, options);
        let ok = false;
        try {
          ok = await tf.setBackend(name);
        } catch (e) {
          throw new Error(`tf.setBackend('${name}') failed: ${(e as Error).message}`);
        }
        if (!ok) throw new Error(`tf.setBackend('${name}') returned false (initialisation failed)`);
      }
      await tf.ready();
      if (name === 'wasm') {
        shareWasmIdentity();
        routeFlaggedWasmMatMul();
      }
      return {
        backend: name,
        platform: isNode() ? 'node' : 'browser',
        adapter: name === 'webgpu' ? lastAdapter : undefined,
        skipped,
      };
    } catch (e) {
      const reason = (e as Error).message;
      if (order.length === 1) throw new Error(`setupBackend: backend "${name}" could not start: ${reason}`);
      skipped.push({ backend: name, reason });
    }
  }
  throw new Error(
    `setupBackend: none of ${order.join(', ')} could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
  );
}
