import { escapeControls } from '@hfhpc/core';

/**
 * Write a report to stdout with every control and bidi-control character escaped (a file name
 * or error text from the Hub is shown, never acted on by the terminal); newlines are kept.
 */
export function printOut(text: string): void {
  process.stdout.write(escapeControls(text, { keepNewlines: true }));
}
