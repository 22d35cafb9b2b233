#!/usr/bin/env node
// The process exits here with the code main() returns, or earlier on a stop signal (early-stop.ts).
import { setFlagsFromString } from 'node:v8';
import { installEarlyStop } from './early-stop.js';

const argv = process.argv.slice(2);
// A `work` process streams gigabytes through short-lived socket buffers (external memory). With
// the whole CLI loaded V8 starts ~60 incremental-marking cycles per GiB for them, which costs a
// third of the download's CPU; scavenges free those buffers anyway. Measured in
// docs/benchmarks.md ("download"). Set before any work starts; other commands keep the defaults.
if (argv.includes('work')) {
  installEarlyStop();
  setFlagsFromString('--no-incremental-marking');
}

// Loaded after the early stop handlers, so a signal during start-up already finds them.
const { main } = await import('./main.js');
process.exitCode = await main(argv);
