export { runVerify, type RunVerifyParams, type VerifyReport, type VerifyBadFile, type VerifyProblem } from './run-verify.js';
export { checkBlobs, type BlobCheck, type BlobResult, type BlobVerdict, type CheckBlobsParams, type VerifyProgress } from './check-blobs.js';
export { quarantineDir } from './quarantine.js';
export type { UnplannedBlob } from './find-unplanned-blobs.js';
export { formatVerify } from './format-verify.js';
