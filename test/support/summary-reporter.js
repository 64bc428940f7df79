// Ends the run with the time each Jest project took, then one plain line CI can read:
// "jest: N passed, N failed, N skipped". Time per project is the sum of its files' run times (what
// it costs a worker) and its span (first file start to last file end), so the next person sees
// which project grew.
class SummaryReporter {
  constructor() {
    this.projects = new Map();
  }

  onTestResult(test, result) {
    const name = test.context.config.displayName?.name ?? 'default';
    const project = this.projects.get(name) ?? { files: 0, tests: 0, busy: 0, start: Infinity, end: 0 };
    project.files += 1;
    project.tests += result.numPassingTests + result.numFailingTests + result.numPendingTests + result.numTodoTests;
    project.busy += result.perfStats.end - result.perfStats.start;
    project.start = Math.min(project.start, result.perfStats.start);
    project.end = Math.max(project.end, result.perfStats.end);
    this.projects.set(name, project);
  }

  onRunComplete(_contexts, results) {
    const rows = [...this.projects].sort((a, b) => b[1].busy - a[1].busy);
    if (rows.length > 0) {
      const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
      const width = Math.max(...rows.map(([name]) => name.length));
      const lines = rows.map(([name, p]) => `  ${name.padEnd(width)}  ${seconds(p.busy)} in files, ${seconds(p.end - p.start)} span  ${String(p.files).padStart(3)} files ${String(p.tests).padStart(5)} tests`);
      const total = rows.reduce((sum, [, p]) => sum + p.busy, 0);
      process.stdout.write(`\nTime per project (${(total / 1000).toFixed(1)} s in files, ${((Date.now() - results.startTime) / 1000).toFixed(1)} s wall):\n${lines.join('\n')}\n`);
    }
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
