// The playground page: pick a loss family, train its demo live on the
// backend setupBackend starts (WebGPU where the browser has it), watch the
// loss curve and the family's picture. `?backend=wasm` (or cpu) picks
// another backend; `?family=ctc&steps=20&autorun=1` starts a run at once;
// `?fused=0` runs the losses as composed tfjs ops instead of their fused kernels;
// `?syncreads=1` keeps synchronous GPU reads (see hideOffscreenCanvas).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm?url';
import { setFusedKernelsEnabled, setupBackend, type BackendName, type BackendReport } from '@tfjs-losses/core';
import { lossChartSvg, pictureSvg } from '../chart';
import './style.css';
import { DEMOS, type Demo, type Family, type Picture, type Progress } from '../demos';

/** What the end-to-end test reads (and a curious user can, in the console). */
interface PlaygroundState {
  backend?: BackendReport;
  family?: Family;
  state: 'starting' | 'idle' | 'training' | 'done' | 'error';
  losses: number[];
  evidence?: string;
  error?: string;
}

const state: PlaygroundState = { state: 'starting', losses: [] };
(globalThis as { playground?: PlaygroundState }).playground = state;
// The page's TensorFlow.js, for experiments in the browser console.
(globalThis as { tf?: typeof tf }).tf = tf;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
let current: Demo = DEMOS.find((d) => d.family === params.get('family')) ?? DEMOS[0];
let abort: AbortController | undefined;

/**
 * tfjs-backend-webgpu answers `dataSync()` through an OffscreenCanvas. In
 * headless Chromium on SwiftShader that read loses the GPU device once a
 * tensor has more than about a hundred elements ("A valid external Instance
 * reference no longer exists"), and the loss packages read label tensors
 * synchronously where `canReadSync()` says they can. Without OffscreenCanvas
 * the packages take the asynchronous paths they use in Node.
 */
function hideOffscreenCanvas(): void {
  Object.defineProperty(globalThis, 'OffscreenCanvas', { value: undefined, configurable: true, writable: true });
}

function setStatus(s: PlaygroundState['state'], text: string = s): void {
  state.state = s;
  const el = $('status');
  el.dataset.state = s;
  el.textContent = text;
}

function describe(r: BackendReport): string {
  const adapter = r.adapter
    ? ` — adapter: ${[r.adapter.vendor, r.adapter.architecture, r.adapter.description].filter(Boolean).join(' / ') || 'unnamed'}`
    : '';
  const skipped = r.skipped.length ? ` (skipped ${r.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')})` : '';
  return `backend: ${r.backend} (${r.platform}, via setupBackend)${adapter}${skipped}`;
}

function select(demo: Demo): void {
  current = demo;
  state.family = demo.family;
  for (const b of $('families').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.family === demo.family));
  $('description').textContent = demo.description;
  $<HTMLInputElement>('steps').value = params.get('steps') ?? String(demo.defaultSteps);
  $('chart').innerHTML = '';
  $('picture').innerHTML = '';
  $('evidence').textContent = '';
  $('progress').textContent = '';
}

async function train(): Promise<void> {
  const steps = Math.max(current.minSteps, Number($<HTMLInputElement>('steps').value) || current.defaultSteps);
  abort = new AbortController();
  state.losses = [];
  state.evidence = undefined;
  setStatus('training');
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  $('evidence').textContent = '';
  const start = performance.now();
  let examples = 0;
  let lastDraw = 0;
  const series = new Map<string, number[]>();
  const draw = (): void => {
    $('chart').innerHTML = lossChartSvg(
      [...series].map(([name, values]) => ({ name, values })),
      { title: `${current.family}: loss per step`, sequential: true },
    );
  };
  const onProgress = async (p: Progress): Promise<void> => {
    state.losses.push(p.loss);
    examples += p.batch;
    if (!series.has(p.phase)) series.set(p.phase, []);
    series.get(p.phase)!.push(p.loss);
    const seconds = (performance.now() - start) / 1000;
    $('progress').textContent = `${p.step}/${p.total} steps · loss ${p.loss.toPrecision(4)} · ${(p.step / seconds).toFixed(1)} steps/s · ${Math.round(examples / seconds)} examples/s · ${p.phase}`;
    if (performance.now() - lastDraw > 250 || p.step === p.total) {
      lastDraw = performance.now();
      draw();
      // Let the browser paint between steps.
      await new Promise((r) => setTimeout(r, 0));
    }
  };
  const onPicture = (pic: Picture): void => {
    $('picture').innerHTML = pictureSvg(pic, 440);
  };
  try {
    const result = await current.run({ steps, seed: 1, onProgress, onPicture, pictureEvery: 10, signal: abort.signal });
    draw();
    state.evidence = result.evidence;
    $('evidence').textContent = [...result.details, `evidence: ${result.evidence}`].join('\n');
    setStatus('done', `done: ${result.steps} steps in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  } catch (e) {
    state.error = (e as Error).message;
    setStatus('error', `error: ${(e as Error).message}`);
    console.error(e);
  } finally {
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

async function main(): Promise<void> {
  for (const demo of DEMOS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = demo.family;
    b.dataset.family = demo.family;
    b.addEventListener('click', () => state.state !== 'training' && select(demo));
    $('families').append(b);
  }
  select(current);
  $('train').addEventListener('click', () => void train());
  $('stop').addEventListener('click', () => abort?.abort());
  setWasmPaths({
    'tfjs-backend-wasm.wasm': wasmPlain,
    'tfjs-backend-wasm-simd.wasm': wasmSimd,
    'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
  });
  const fused = params.get('fused') !== '0';
  setFusedKernelsEnabled(fused);
  const wanted = params.get('backend') as BackendName | null;
  try {
    state.backend = await setupBackend(wanted ?? ['webgpu', 'wasm', 'cpu']);
  } catch (e) {
    $('backend').textContent = `no backend: ${(e as Error).message}`;
    setStatus('error', 'no backend');
    return;
  }
  const syncReads = state.backend.backend !== 'webgpu' || params.get('syncreads') === '1';
  if (!syncReads) hideOffscreenCanvas();
  $('backend').dataset.backend = state.backend.backend;
  $('backend').textContent = `${describe(state.backend)} · tfjs ${tf.version_core}${fused ? '' : ' · fused kernels off'}${syncReads ? '' : ' · asynchronous reads only'}`;
  $<HTMLButtonElement>('train').disabled = false;
  setStatus('idle');
  if (params.get('autorun') === '1') await train();
}

void main();
