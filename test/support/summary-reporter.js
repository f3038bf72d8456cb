// Prints Jest's own counts as the one plain line CI reads ("N passed, N failed") and keeps a copy in
// .test-summary so .ci/run can end on it. A suite that failed to run counts as a failure.
const { writeFileSync } = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed`;
    process.stdout.write(`\n${line}\n`);
    writeFileSync(path.join(__dirname, '..', '..', '.test-summary'), `${line}\n`);
  }
}
module.exports = SummaryReporter;
