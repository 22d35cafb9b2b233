#!/usr/bin/env node
// The only place that exits the process: main() returns the exit code.
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

const argv = process.argv.slice(2);
// A `work` process streams gigabytes through short-lived socket buffers (external memory). With
// the whole CLI loaded V8 starts ~60 incremental-marking cycles per GiB for them, which costs a
// third of the download's CPU; scavenges free those buffers anyway. Measured in
// docs/benchmarks.md ("download"). Set before any work starts; other commands keep the defaults.
if (argv.includes('work')) setFlagsFromString('--no-incremental-marking');

process.exitCode = await main(argv);
