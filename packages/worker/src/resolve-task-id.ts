import { UsageError } from '@hfhpc/core';

export interface ResolveTaskIdParams {
  /** `--task-id`: wins over everything; already the absolute shard index. */
  taskId?: number;
  /** `--task-offset`: added to `$SLURM_ARRAY_TASK_ID` (several arrays when N > MaxArraySize). Default `$HFHPC_TASK_OFFSET`, else 0. */
  taskOffset?: number;
  /** Environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

function parseIndex(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(`Expected ${what} to be a non-negative integer, got \`${String(value)}\` (${typeof value})`, {
      hint: 'pass --task-id N, or run inside a Slurm array task',
    });
  }
  return n;
}

/**
 * The shard index this task claims first: `--task-id`, else `$SLURM_ARRAY_TASK_ID` plus the
 * array's offset (`--task-offset`, else `$HFHPC_TASK_OFFSET`). Without either it is a usage
 * error: guessing 0 would make every stray task fight over the same shard.
 */
export function resolveTaskId(params: ResolveTaskIdParams = {}): number {
  const env = params.env ?? process.env;
  if (params.taskId !== undefined) return parseIndex(params.taskId, '--task-id');
  const arrayId = env.SLURM_ARRAY_TASK_ID;
  if (arrayId === undefined || arrayId === '') {
    throw new UsageError('no task id: neither --task-id nor $SLURM_ARRAY_TASK_ID is set', {
      hint: 'pass --task-id N, or run hfhpc work inside a Slurm array task',
    });
  }
  const offsetRaw = params.taskOffset ?? (env.HFHPC_TASK_OFFSET === undefined || env.HFHPC_TASK_OFFSET === '' ? 0 : env.HFHPC_TASK_OFFSET);
  return parseIndex(arrayId, '$SLURM_ARRAY_TASK_ID') + parseIndex(offsetRaw, '--task-offset');
}
