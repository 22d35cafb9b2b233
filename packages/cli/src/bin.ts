#!/usr/bin/env node
// The only place that exits the process: main() returns the exit code.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
