// A one-line progress bar for the terminal: steps, loss, throughput. Without
// a terminal (CI logs, tests) it prints a line at each quarter instead.
import type { Progress } from '../demos/types';

export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastQuarter = 0;
  private examples = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  update(p: Progress): void {
    this.examples += p.batch;
    const now = performance.now();
    const done = p.step >= p.total;
    if (this.tty) {
      if (!done && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.out.write(`\r${this.line(p, now)}\x1b[K`);
      return;
    }
    const quarter = Math.floor((4 * p.step) / p.total);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.out.write(`${this.line(p, now)}\n`);
    }
  }

  /** Ends the bar's line (terminal only). */
  finish(): void {
    if (this.tty) this.out.write('\n');
  }

  private line(p: Progress, now: number): string {
    const width = 24;
    const filled = Math.round((width * p.step) / p.total);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const seconds = Math.max(1e-3, (now - this.start) / 1000);
    const loss = Number.isFinite(p.loss) ? p.loss.toPrecision(4) : String(p.loss);
    return (
      `${this.label.padEnd(11)} [${bar}] ${String(p.step).padStart(5)}/${p.total} ` +
      `loss ${loss.padStart(9)}  ${(p.step / seconds).toFixed(1)} steps/s  ` +
      `${Math.round(this.examples / seconds)} ex/s  ${p.phase}`
    );
  }
}
