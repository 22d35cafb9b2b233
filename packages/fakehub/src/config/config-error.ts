// fakehub depends on nothing of ours, so it has its own error for a bad config; it lists
// every problem at once so the author fixes the file in one pass.

export class FakeHubConfigError extends Error {
  readonly code = 'FAKEHUB_CONFIG';
  readonly problems: string[];

  constructor(source: string, problems: string[]) {
    super(`invalid fakehub config ${source}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'FakeHubConfigError';
    this.problems = problems;
  }
}
