/**
 * Jest reporter: in CI (CI=true) a skipped or todo test fails the run. Tests that need a tool or server CI
 * provides (the aws CLI, OpenSSH, Ceph) skip on a developer's machine without it; in CI that would hide a
 * requirement nobody checked.
 */
class NoSkippedTestsInCi {
  constructor() {
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    if (process.env.CI !== 'true') return;
    const skipped = results.testResults.flatMap((file) =>
      file.testResults
        .filter((test) => test.status === 'pending' || test.status === 'todo' || test.status === 'skipped')
        .map((test) => `  ${file.testFilePath}: ${test.fullName}`),
    );
    if (skipped.length === 0) return;
    this.error = new Error(`${skipped.length} test(s) skipped in CI, where every test must run:\n${skipped.join('\n')}`);
    process.stderr.write(`\n${this.error.message}\n`);
  }

  getLastError() {
    return this.error;
  }
}

module.exports = NoSkippedTestsInCi;
