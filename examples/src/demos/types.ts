// What every demo is and returns. Nothing here depends on Node or the DOM:
// the same demos run under `pnpm demo` (src/node) and in the playground
// (src/playground).

/** The seven loss families, in the order `pnpm demo` runs them. */
export type Family = 'ctc' | 'focal' | 'contrastive' | 'gan' | 'lovasz' | 'smooth-l1' | 'cycle';

/** One progress report, sent after every training step. */
export interface Progress {
  /** Steps done so far in this demo (all phases together), 1-based. */
  step: number;
  /** Steps this demo will run in total. */
  total: number;
  /** The loss of the step just taken. */
  loss: number;
  /** Which run or phase the step belongs to (e.g. `'focal'`, `'cross-entropy'`). */
  phase: string;
  /** Examples processed by this step (for the throughput figure). */
  batch: number;
}

/** A 2-D point of a scatter picture; `group` picks its colour. */
export interface ScatterPoint {
  x: number;
  y: number;
  group: number;
}

/** What a demo can show of its model while it trains (the playground draws it). */
export type Picture =
  | { kind: 'scatter'; title: string; points: ScatterPoint[]; groups: string[] }
  | { kind: 'text'; title: string; lines: string[] }
  | {
      kind: 'masks';
      title: string;
      width: number;
      height: number;
      classes: string[];
      /** Rows of images; each image is one class index per pixel, row-major. */
      rows: { label: string; images: Int32Array[] }[];
    }
  | { kind: 'series'; title: string; series: { name: string; values: number[] }[] };

/** A named loss curve (one value per step of one phase). */
export interface Curve {
  name: string;
  values: number[];
}

/** What a demo hands back when it is done. */
export interface DemoResult {
  family: Family;
  /** Steps actually run. */
  steps: number;
  curves: Curve[];
  /** One line saying whether the loss did its job, with the numbers. */
  evidence: string;
  /** The numbers behind the evidence line (written to summary.json). */
  metrics: Record<string, number | string | number[] | string[] | boolean>;
  /** Extra lines printed before the evidence (e.g. CTC's forced alignment). */
  details: string[];
  /** The final picture of the model. */
  picture?: Picture;
}

/** What the caller passes to a demo. */
export interface DemoContext {
  /** Training steps: the demo's default when undefined. */
  steps?: number;
  /** Seed of every random draw (data, initial weights, batches). */
  seed?: number;
  /** Called after every step; awaited, so a page can let the browser paint. */
  onProgress?: (p: Progress) => void | Promise<void>;
  /** When set, called with a picture every `pictureEvery` steps and at the end. */
  onPicture?: (p: Picture) => void | Promise<void>;
  pictureEvery?: number;
  /** Stops training early (the playground's Stop button). */
  signal?: AbortSignal;
}

/** One demo: a toy problem, a small model and the loss of one family. */
export interface Demo {
  family: Family;
  title: string;
  /** One paragraph: the problem, the model, what is measured. */
  description: string;
  /** Steps of the default run (all phases together). */
  defaultSteps: number;
  /** Fewest steps the demo accepts (phases need at least one step each). */
  minSteps: number;
  run(ctx?: DemoContext): Promise<DemoResult>;
}
