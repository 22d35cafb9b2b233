// sbatch: splitting into arrays, templates, rendering, writing.
export { splitArrays, arraysForIndices, type ArrayChunk, type SplitArraysParams, type ArraysForIndicesParams } from './split-arrays.js';
export { shellQuote, sbatchQuote } from './quote.js';
export { readSbatchTemplate, fillTemplate, DEFAULT_TEMPLATE_DIR, type SbatchTemplateName, type ReadSbatchTemplateParams } from './template.js';
export { renderSbatch, renderVerifySbatch, type SbatchResources, type RenderSbatchParams, type RenderVerifySbatchParams } from './render.js';
export { workCommand, verifyCommand, type WorkCommandParams, type VerifyCommandParams } from './work-command.js';
export { writeSbatchScript, type WriteSbatchScriptParams } from './write-sbatch-script.js';
