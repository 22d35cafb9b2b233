// sbatch: array specs and splitting, templates, rendering, writing, MaxArraySize.
export { parseArraySpec, formatArraySpec, type ArraySpec } from './array-spec.js';
export { splitArrays, arraysForIndices, type ArrayChunk, type SplitArraysParams, type ArraysForIndicesParams } from './split-arrays.js';
export { shellQuote, sbatchQuote } from './quote.js';
export { readSbatchTemplate, fillTemplate, DEFAULT_TEMPLATE_DIR, type SbatchTemplateName, type ReadSbatchTemplateParams } from './template.js';
export { renderSbatch, renderVerifySbatch, type SbatchResources, type RenderSbatchParams, type RenderVerifySbatchParams } from './render.js';
export { workCommand, verifyCommand, type WorkCommandParams, type VerifyCommandParams } from './work-command.js';
export { detectMaxArraySize, DEFAULT_MAX_ARRAY_SIZE, type DetectMaxArraySizeParams } from './max-array-size.js';
export { writeSbatchScript, type WriteSbatchScriptParams } from './write-script.js';
