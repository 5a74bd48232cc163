// Starts Debian's coturn (`turnserver`) on 127.0.0.1 inside the driver's loopback-only
// namespace, with long-term credentials, for the `--turn` scenarios of run.mjs.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile, rm } from 'node:fs/promises';

export const TURN_USER = 'rtcpeer';
export const TURN_PASSWORD = 'relay-secret';
const TURN_REALM = 'rtcpeer.test';
/** coturn hands out relayed addresses from this port range only. */
export const RELAY_PORTS = [50000, 50100];

/** A STUN Binding request (RFC 5389) with a fixed transaction id. */
function bindingRequest() {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  b.fill(7, 8);
  return b;
}

/** Resolves once `port` on 127.0.0.1 answers a Binding request; rejects after `ms`. */
function answersStun(port, ms) {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const done = (err) => { clearInterval(poke); clearTimeout(timer); socket.close(); err ? reject(err) : resolve(); };
    const poke = setInterval(() => socket.send(bindingRequest(), port, '127.0.0.1'), 100);
    const timer = setTimeout(() => done(new Error(`coturn did not answer STUN on ${port} within ${ms} ms`)), ms);
    socket.on('message', () => done());
  });
}

/**
 * Spawns coturn on 127.0.0.1:`port` and resolves with `{url, user, password, logText(), stop()}`
 * once it answers STUN. Loopback peers are allowed (everything here is 127.0.0.1).
 */
export async function startCoturn(port = 3478) {
  const log = join(tmpdir(), `rtcpeer-driver-coturn-${process.pid}.log`);
  const child = spawn('turnserver', [
    '-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${RELAY_PORTS[0]}`, `--max-port=${RELAY_PORTS[1]}`,
    '--lt-cred-mech', '--fingerprint', '--allow-loopback-peers',
    `--user=${TURN_USER}:${TURN_PASSWORD}`, `--realm=${TURN_REALM}`,
    '--no-cli', '--no-tls', '--no-dtls', '--simple-log', `--log-file=${log}`,
  ], { stdio: 'ignore' });
  const exited = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`turnserver exited (${code})`))));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(log, { force: true });
  };
  try {
    await Promise.race([answersStun(port, 5000), exited]);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host: '127.0.0.1', port, user: TURN_USER, password: TURN_PASSWORD,
    logText: () => readFile(log, 'utf8').catch(() => ''),
    stop,
  };
}

/** Whether a candidate (as `selectedPair` reports it) is one of coturn's relayed addresses. */
export function isCoturnRelay(candidate) {
  return candidate?.candidateType === 'relay' && candidate.address === '127.0.0.1'
    && candidate.port >= RELAY_PORTS[0] && candidate.port <= RELAY_PORTS[1];
}
