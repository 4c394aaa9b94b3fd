// Entry point of `pnpm demo` (see run.ts and the README).
import { USAGE, parseArgs, runDemos } from './run';

let options;
try {
  options = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
} else {
  const summary = await runDemos(options);
  process.exitCode = summary.demos.some((d) => d.status === 'failed') ? 1 : 0;
}
