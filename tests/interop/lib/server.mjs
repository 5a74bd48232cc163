// Starts an rtcpeer example server (e.g. `echo`) on 127.0.0.1 with an OS-chosen port and
// waits for the line where it announces its URL.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How many of the server's last stderr lines a failed run reports. */
const STDERR_TAIL_LINES = 150;

/**
 * Spawns `path --listen 127.0.0.1:0 ...extraArgs` and resolves with `{url, stderrTail, stop}`
 * once it prints `listening on http://...`. Rejects when it exits first or takes over 30 s.
 */
export function startServer(path, extraArgs = []) {
  // Debug logs by default: only the tail is kept, and only reported when a run fails.
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'debug', NO_COLOR: '1' };
  const child = spawn(path, ['--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const stderrTail = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${path} did not announce its URL within 30 s: ${stderrTail.join('\n')}`));
    }, 30000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${path} exited (${code ?? signal}) before listening: ${stderrTail.join('\n')}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ url: m[1].replace(/\/$/, ''), stderrTail, stop, exited: () => child.exitCode ?? child.signalCode });
      }
    });
  });
}
